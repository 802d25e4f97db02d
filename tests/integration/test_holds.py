"""Contract v2's holds over the real broker and PostgreSQL: booking-hold-request, booking-capture-request
and booking-release-request, every reason each is refused for, hold expiry at a tick, and void's `held`.
Each reply is waited for on its topic by its request_id."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Received, Wire
from tests.scenario import balance_and_available, buy, configure, first_reply

pytestmark = pytest.mark.integration

HOLD_REPLIES = (Topic.HOLD_PLACED, Topic.HOLD_REJECTED)
CAPTURE_REPLIES = (Topic.CERTIFICATE_REDEEMED, Topic.CAPTURE_REJECTED)
RELEASE_REPLIES = (Topic.HOLD_RELEASED, Topic.RELEASE_REJECTED)


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


async def _send(wire: Wire, topic: Topic, replies: tuple[Topic, ...], request: dict[str, Any]) -> tuple[Topic, dict]:
    await wire.send(topic, request)
    return await first_reply(wire, replies, request["request_id"])


async def _hold(wire: Wire, workspace: str, code: str, **changes: Any) -> tuple[Topic, dict[str, Any]]:
    return await _send(wire, Topic.BOOKING_HOLD_REQUEST, HOLD_REPLIES, messages.hold(workspace, code, **changes))


async def _placed(wire: Wire, workspace: str, code: str, **changes: Any) -> dict[str, Any]:
    topic, body = await _hold(wire, workspace, code, **changes)
    assert topic is Topic.HOLD_PLACED, body
    return body


async def _capture(wire: Wire, workspace: str, hold_id: str, **changes: Any) -> tuple[Topic, dict[str, Any]]:
    request = messages.capture(workspace, hold_id, **changes)
    return await _send(wire, Topic.BOOKING_CAPTURE_REQUEST, CAPTURE_REPLIES, request)


async def _release(wire: Wire, workspace: str, hold_id: str, **changes: Any) -> tuple[Topic, dict[str, Any]]:
    request = messages.release(workspace, hold_id, **changes)
    return await _send(wire, Topic.BOOKING_RELEASE_REQUEST, RELEASE_REPLIES, request)


def _sequences(wire: Wire, certificate_id: str, *topics: Topic) -> list[tuple[Topic, int]]:
    seen = [
        (topic, record.body["sequence"])
        for topic in topics
        for record in wire.on(topic)
        if record.body.get("certificate_id") == certificate_id
    ]
    return sorted(seen, key=lambda pair: pair[1])


async def test_a_hold_captured_in_part_redeems_then_releases_the_rest(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await buy(wire, db, workspace)  # EUR 50
    held = await _placed(wire, workspace, bought.code, amount=eur(3000), hold_seconds=600)
    assert (held["certificate_id"], held["amount_held"], held["available_after"]) == (
        bought.certificate_id, eur(3000), eur(2000),
    )
    assert held["hold_id"] == held["request_id"]
    assert held["code_last4"] == bought.code[-4:]
    assert await balance_and_available(db, bought.certificate_id) == (5000, 2000)

    topic, redeemed = await _capture(wire, workspace, held["hold_id"], amount=eur(1000))
    assert topic is Topic.CERTIFICATE_REDEEMED, redeemed
    assert (redeemed["hold_id"], redeemed["amount_applied"], redeemed["balance_after"], redeemed["status_after"]) == (
        held["hold_id"], eur(1000), eur(4000), "active",
    )
    (released,) = await wire.wait_for(Topic.HOLD_RELEASED, lambda b: b["request_id"] == redeemed["request_id"])
    assert (released.body["amount_released"], released.body["available_after"]) == (eur(2000), eur(4000))
    assert released.body["sequence"] == redeemed["sequence"] + 1
    assert await balance_and_available(db, bought.certificate_id) == (4000, 4000)
    # In `sequence` order the hold comes first, then the capture's two events; the documents and mailer
    # workers' pdf-ready and certificate-sent take numbers of the same counter whenever they commit.
    ordered = _sequences(
        wire, bought.certificate_id, Topic.HOLD_PLACED, Topic.CERTIFICATE_REDEEMED, Topic.HOLD_RELEASED
    )
    assert [topic for topic, _ in ordered] == [Topic.HOLD_PLACED, Topic.CERTIFICATE_REDEEMED, Topic.HOLD_RELEASED]
    assert ordered[0][1] >= 3  # after certificate-created (1) and certificate-activated (2)


async def test_every_reason_a_hold_is_refused_for_on_the_wire(wire: Wire, db: AsyncEngine, workspace: str) -> None:
    await configure(db, workspace, redemption_mode="partial", hold_seconds_max=3600)
    one = await buy(wire, db, workspace)
    two = await buy(wire, db, workspace)
    order = {"order_id": f"trip-{workspace}", "order_total": eur(6000)}
    await _placed(wire, workspace, one.code, amount=eur(4000), **order)

    cases: list[tuple[str, str, dict[str, Any], str | None]] = [
        ("unknown code", "ABCD-EFGH-JKMN", {}, None),
        ("zero amount", two.code, {"amount": eur(0)}, two.certificate_id),
        ("foreign amount", two.code, {"amount": {"minor": 100, "currency": "GBP"}}, two.certificate_id),
        ("more than the order", two.code, {"amount": eur(7000), **order}, two.certificate_id),
        ("more than the order owes", two.code, {"amount": eur(3000), **order}, two.certificate_id),
        ("more than is available", one.code, {"amount": eur(1500)}, one.certificate_id),
        ("too long", two.code, {"hold_seconds": 3601}, two.certificate_id),
    ]
    reasons = {}
    for case, code, changes, certificate_id in cases:
        topic, body = await _hold(wire, workspace, code, **changes)
        assert topic is Topic.HOLD_REJECTED, (case, body)
        assert body["certificate_id"] == certificate_id, case
        assert body["detail"]
        reasons[case] = body["reason"]
    assert reasons == {
        "unknown code": "not_found", "zero amount": "invalid_amount", "foreign amount": "invalid_amount",
        "more than the order": "exceeds_order_total", "more than the order owes": "exceeds_order_due",
        "more than is available": "insufficient_balance", "too long": "invalid_hold_seconds",
    }
    await configure(db, workspace, redemption_mode="full")
    spent = await buy(wire, db, workspace)
    redeem = messages.redeem(workspace, spent.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, redeem)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] == redeem["request_id"])
    topic, body = await _hold(wire, workspace, spent.code)
    assert (topic, body["reason"], body["certificate_id"]) == (Topic.HOLD_REJECTED, "already_redeemed",
                                                               spent.certificate_id)
    topic, body = await _hold(wire, workspace, two.code, amount=eur(1000))
    assert (topic, body["reason"]) == (Topic.HOLD_REJECTED, "invalid_amount")


async def test_every_reason_a_capture_or_a_release_is_refused_for_on_the_wire(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await buy(wire, db, workspace)
    unknown = "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9"
    for send, replies in ((_capture, CAPTURE_REPLIES), (_release, RELEASE_REPLIES)):
        topic, body = await send(wire, workspace, unknown)
        assert (topic, body["reason"], body["certificate_id"]) == (replies[1], "unknown_hold", None)

    captured = await _placed(wire, workspace, bought.code, amount=eur(1000), order_id=f"a-{workspace}")
    topic, body = await _capture(wire, workspace, captured["hold_id"], amount=eur(1001))
    assert (topic, body["reason"]) == (Topic.CAPTURE_REJECTED, "amount_exceeds_hold")
    topic, body = await _capture(wire, workspace, captured["hold_id"], amount=eur(0))
    assert (topic, body["reason"]) == (Topic.CAPTURE_REJECTED, "invalid_amount")
    assert (await _capture(wire, workspace, captured["hold_id"]))[0] is Topic.CERTIFICATE_REDEEMED
    topic, body = await _capture(wire, workspace, captured["hold_id"])
    assert (topic, body["reason"], body["certificate_id"]) == (
        Topic.CAPTURE_REJECTED, "already_captured", bought.certificate_id,
    )
    topic, body = await _release(wire, workspace, captured["hold_id"])
    assert (topic, body["reason"]) == (Topic.RELEASE_REJECTED, "already_captured")

    released = await _placed(wire, workspace, bought.code, amount=eur(1000), order_id=f"b-{workspace}")
    topic, body = await _release(wire, workspace, released["hold_id"])
    assert topic is Topic.HOLD_RELEASED, body
    assert (body["amount_released"], body["available_after"]) == (eur(1000), eur(4000))
    topic, body = await _capture(wire, workspace, released["hold_id"])
    assert (topic, body["reason"]) == (Topic.CAPTURE_REJECTED, "hold_released")
    topic, body = await _release(wire, workspace, released["hold_id"])
    assert (topic, body["reason"]) == (Topic.RELEASE_REJECTED, "hold_released")

    lapsing = await _placed(wire, workspace, bought.code, amount=eur(1000), order_id=f"c-{workspace}",
                            hold_seconds=1)
    await asyncio.sleep(1.2)  # past hold_expires_at by the ledger's clock; no tick has seen it
    for send, replies in ((_capture, CAPTURE_REPLIES), (_release, RELEASE_REPLIES)):
        topic, body = await send(wire, workspace, lapsing["hold_id"])
        assert (topic, body["reason"]) == (replies[1], "hold_expired")
    assert await balance_and_available(db, bought.certificate_id) == (4000, 4000)


async def test_a_tick_expires_a_lapsed_hold_and_a_held_certificate_is_not_voided(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    held = await _placed(wire, workspace, bought.code, hold_seconds=600)
    void = messages.void(workspace, bought.certificate_id)
    await wire.send(Topic.VOID, void)
    (refused,) = await wire.wait_for(Topic.VOID_REJECTED, lambda b: b["request_id"] == void["request_id"])
    assert refused.body["reason"] == "held"

    later = (datetime.now(UTC) + timedelta(minutes=11)).isoformat()
    await wire.send(Topic.EXPIRY_TICK, messages.tick(workspace, later))
    (expired,) = await wire.wait_for(Topic.HOLD_EXPIRED, lambda b: b["hold_id"] == held["hold_id"])
    assert (expired.body["certificate_id"], expired.body["order_id"], expired.body["amount_released"]) == (
        bought.certificate_id, held["order_id"], eur(5000),
    )
    assert expired.body["available_after"] == eur(5000)
    assert expired.body["sequence"] > held["sequence"]
    async with db.connect() as connection:
        state = (await connection.execute(
            text("SELECT state FROM holds WHERE id = :id"), {"id": held["hold_id"]}
        )).scalar_one()
        entries = (await connection.execute(
            text("SELECT kind, amount_minor FROM ledger_entries WHERE certificate_id = :id ORDER BY id"),
            {"id": bought.certificate_id},
        )).all()
    assert state == "expired"
    assert [tuple(e) for e in entries] == [("issued", 5000), ("hold", -5000), ("hold_expired", 5000)]


async def test_a_repeated_hold_capture_or_release_gets_the_same_decision_again(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await buy(wire, db, workspace)
    hold = messages.hold(workspace, bought.code, amount=eur(2000))
    capture = messages.capture(workspace, hold["request_id"])
    for topic, request, replies in (
        (Topic.BOOKING_HOLD_REQUEST, hold, HOLD_REPLIES), (Topic.BOOKING_CAPTURE_REQUEST, capture, CAPTURE_REPLIES),
    ):
        await wire.send(topic, request)
        await wire.send(topic, request)
        rid = request["request_id"]
        first, again = await wire.wait_for(replies[0], lambda b, rid=rid: b["request_id"] == rid, count=2)
        assert _decision(first) == _decision(again)
        assert first.body["event_id"] != again.body["event_id"]
    assert await balance_and_available(db, bought.certificate_id) == (3000, 3000)


def _decision(record: Received) -> dict[str, Any]:
    return {k: v for k, v in record.body.items() if k not in {"event_id", "occurred_at", "sequence"}}
