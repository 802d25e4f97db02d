"""booking-redeem-request: exactly one decision per request; a code is spent at most once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.scenario import buy, code_of, configure, first_reply, request_purchase

pytestmark = pytest.mark.integration


def _later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _decision(wire: Wire, request: dict) -> tuple[str, dict]:
    replies = (Topic.CERTIFICATE_REDEEMED, Topic.REDEMPTION_REJECTED)
    topic, body = await first_reply(wire, replies, request["request_id"])
    return ("redeemed" if topic is Topic.CERTIFICATE_REDEEMED else "rejected"), body


async def test_a_valid_code_typed_in_any_spelling_redeems_the_certificate_in_full(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    typed = "-".join(bought.code[i : i + 4] for i in (0, 4, 8)).lower()
    request = messages.redeem(workspace, f" {typed} ")
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    outcome, body = await _decision(wire, request)
    assert outcome == "redeemed"
    assert body["amount_applied"] == {"minor": 5000, "currency": "EUR"}
    assert body["certificate_id"] == bought.certificate_id
    assert body["order_id"] == request["order_id"]
    assert body["code_last4"] == bought.code[-4:]
    async with db.connect() as connection:
        balance = (await connection.execute(
            text("SELECT sum(amount_minor) FROM ledger_entries WHERE certificate_id = :id"),
            {"id": bought.certificate_id},
        )).scalar_one()
    assert balance == 0


async def test_second_redeem_of_a_code_is_refused_as_already_redeemed(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    first = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, first)
    assert (await _decision(wire, first))[0] == "redeemed"
    second = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, second)
    outcome, body = await _decision(wire, second)
    assert (outcome, body["reason"]) == ("rejected", "already_redeemed")


async def test_repeated_redeem_request_gets_the_same_reply_again(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    first, second = await wire.wait_for(
        Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] == request["request_id"], count=2
    )
    assert first.body["event_id"] != second.body["event_id"]
    assert first.body["redeemed_at"] == second.body["redeemed_at"]
    assert not [r for r in wire.on(Topic.REDEMPTION_REJECTED) if r.body["request_id"] == request["request_id"]]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"order_total": {"minor": 4999, "currency": "EUR"}}, "exceeds_order_total"),
        ({"order_total": {"minor": 9000, "currency": "GBP"}}, "currency_mismatch"),
        ({"requested_at": _later(400)}, "expired"),
    ],
)
async def test_redemption_that_breaks_a_rule_is_refused_with_its_reason(
    wire: Wire, db: AsyncEngine, workspace: str, changes: dict, reason: str
) -> None:
    await configure(db, workspace, expiry_days=365)
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code, **changes)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    outcome, body = await _decision(wire, request)
    assert (outcome, body["reason"]) == ("rejected", reason)
    assert bought.code not in body["detail"]


async def test_unknown_code_and_a_code_of_another_workspace_are_not_found(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    for request in (
        messages.redeem(workspace, "ZZZZ-ZZZZ-ZZZZ"),
        messages.redeem(workspace, "not a code at all"),
        messages.redeem(f"{workspace}-other", bought.code),
    ):
        await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
        outcome, body = await _decision(wire, request)
        assert (outcome, body["reason"]) == ("rejected", "not_found")


async def test_a_pending_certificate_is_not_active(wire: Wire, db: AsyncEngine, workspace: str) -> None:
    await configure(db, workspace)
    request = await request_purchase(wire, workspace)
    redeem = messages.redeem(workspace, await code_of(db, request["certificate_id"]))
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, redeem)
    outcome, body = await _decision(wire, redeem)
    assert (outcome, body["reason"]) == ("rejected", "not_active")


async def test_a_certificate_bought_for_a_segment_is_refused_to_other_segments(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace, segment="b2b")
    elsewhere = messages.redeem(workspace, bought.code, segment="b2c")
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, elsewhere)
    assert (await _decision(wire, elsewhere))[1]["reason"] == "segment_not_allowed"
    inside = messages.redeem(workspace, bought.code, segment="b2b")
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, inside)
    assert (await _decision(wire, inside))[0] == "redeemed"


async def test_an_order_that_tried_five_unknown_codes_is_refused_as_too_many_attempts_even_with_a_valid_code(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    guesses = [messages.redeem(workspace, f"ABCD-EFGH-JK{n:02d}", order_id="order-guesser") for n in range(5)]
    for guess in guesses:
        await wire.send(Topic.BOOKING_REDEEM_REQUEST, guess)
        assert (await _decision(wire, guess))[1]["reason"] == "not_found"

    real = messages.redeem(workspace, bought.code, order_id="order-guesser")
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, real)
    outcome, body = await _decision(wire, real)
    assert (outcome, body["reason"]) == ("rejected", "too_many_attempts")
    assert "certificate_id" not in body
    async with db.connect() as connection:
        status = (await connection.execute(
            text("SELECT status FROM certificates WHERE id = :id"), {"id": bought.certificate_id}
        )).scalar_one()
    assert status == "active"

    honest = messages.redeem(workspace, bought.code)  # another order of the same workspace
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, honest)
    assert (await _decision(wire, honest))[0] == "redeemed"


async def test_refusals_for_a_real_code_do_not_count_as_guesses(wire: Wire, db: AsyncEngine, workspace: str) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    small = {"minor": 1000, "currency": "EUR"}
    for _ in range(6):
        refused = messages.redeem(workspace, bought.code, order_id="order-small", order_total=small)
        await wire.send(Topic.BOOKING_REDEEM_REQUEST, refused)
        assert (await _decision(wire, refused))[1]["reason"] == "exceeds_order_total"
    enough = messages.redeem(workspace, bought.code, order_id="order-small")
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, enough)
    assert (await _decision(wire, enough))[0] == "redeemed"
