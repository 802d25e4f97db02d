"""void, reactivate and expiry-tick: the operator's and the scheduler's commands."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.scenario import buy, configure, request_purchase

pytestmark = pytest.mark.integration


def _at(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _status(db: AsyncEngine, cid: str) -> str:
    async with db.connect() as connection:
        return str((await connection.execute(
            text("SELECT status FROM certificates WHERE id = :id"), {"id": cid}
        )).scalar_one())


async def test_void_cancels_an_active_certificate_and_logs_reason_and_actor(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    request = messages.void(workspace, bought.certificate_id, reason="refund #42", actor="ann")
    await wire.send(Topic.VOID, request)
    (voided,) = await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == request["request_id"])
    assert voided.body["reason"] == "refund #42"
    assert await _status(db, bought.certificate_id) == "voided"
    async with db.connect() as connection:
        row = (await connection.execute(
            text("SELECT reason, actor FROM certificate_activity WHERE certificate_id = :id AND kind = 'voided'"),
            {"id": bought.certificate_id},
        )).one()
    assert tuple(row) == ("refund #42", "ann")
    redeem = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, redeem)
    (refused,) = await wire.wait_for(Topic.REDEMPTION_REJECTED, lambda b: b["request_id"] == redeem["request_id"])
    assert refused.body["reason"] == "voided"


async def test_void_of_an_unknown_or_redeemed_certificate_is_rejected(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    redeem = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, redeem)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] == redeem["request_id"])
    for request, reason in (
        (messages.void(workspace, bought.certificate_id), "already_redeemed"),
        (messages.void(workspace, "0b0e6d3a-9d0c-4f39-8f7e-7f1f3a1b2c3d"), "not_found"),
    ):
        await wire.send(Topic.VOID, request)
        (rejected,) = await wire.wait_for(Topic.VOID_REJECTED, lambda b, r=request: b["request_id"] == r["request_id"])
        assert rejected.body["reason"] == reason
        assert rejected.body["detail"]


async def _void_refusal(wire: Wire, request: dict) -> str:
    await wire.send(Topic.VOID, request)
    (rejected,) = await wire.wait_for(Topic.VOID_REJECTED, lambda b: b["request_id"] == request["request_id"])
    assert rejected.body["detail"]
    return str(rejected.body["reason"])


async def test_void_of_a_voided_certificate_is_rejected_as_already_voided(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    first = messages.void(workspace, bought.certificate_id)
    await wire.send(Topic.VOID, first)
    await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == first["request_id"])
    assert await _void_refusal(wire, messages.void(workspace, bought.certificate_id)) == "already_voided"


async def test_void_of_an_unpaid_certificate_is_rejected_as_not_active(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    request = await request_purchase(wire, workspace)
    assert await _void_refusal(wire, messages.void(workspace, request["certificate_id"])) == "not_active"
    assert await _status(db, request["certificate_id"]) == "pending"


async def test_reactivation_restores_a_voided_certificate_that_can_then_be_redeemed(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    void = messages.void(workspace, bought.certificate_id)
    await wire.send(Topic.VOID, void)
    await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == void["request_id"])
    again = messages.reactivate(workspace, bought.certificate_id)
    await wire.send(Topic.REACTIVATE, again)
    (reactivated,) = await wire.wait_for(
        Topic.CERTIFICATE_REACTIVATED, lambda b: b["request_id"] == again["request_id"]
    )
    assert reactivated.body["actor"] == again["actor"]
    assert await _status(db, bought.certificate_id) == "active"
    redeem = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, redeem)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] == redeem["request_id"])


async def test_reactivation_is_refused_unless_voided_and_before_expiry(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    active = messages.reactivate(workspace, bought.certificate_id)
    await wire.send(Topic.REACTIVATE, active)
    (rejected,) = await wire.wait_for(Topic.REACTIVATE_REJECTED, lambda b: b["request_id"] == active["request_id"])
    assert rejected.body["reason"] == "not_voided"

    void = messages.void(workspace, bought.certificate_id)
    await wire.send(Topic.VOID, void)
    await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == void["request_id"])
    async with db.begin() as connection:  # time passes: the certificate's expiry is behind us
        await connection.execute(
            text("UPDATE certificates SET expires_at = now() - interval '1 day' WHERE id = :id"),
            {"id": bought.certificate_id},
        )
    late = messages.reactivate(workspace, bought.certificate_id)
    await wire.send(Topic.REACTIVATE, late)
    (rejected,) = await wire.wait_for(Topic.REACTIVATE_REJECTED, lambda b: b["request_id"] == late["request_id"])
    assert rejected.body["reason"] == "expired"


async def test_tick_expires_active_certificates_past_expiry_once_and_they_can_no_longer_be_used(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, expiry_days=30)
    bought = await buy(wire, db, workspace)
    tick = messages.tick(workspace, _at(31))
    await wire.send(Topic.EXPIRY_TICK, tick)
    (expired,) = await wire.wait_for(Topic.CERTIFICATE_EXPIRED, lambda b: b["certificate_id"] == bought.certificate_id)
    assert expired.body["code_last4"] == bought.code[-4:]
    assert await _status(db, bought.certificate_id) == "expired"
    await wire.send(Topic.EXPIRY_TICK, tick)
    await wire.send(Topic.EXPIRY_TICK, messages.tick(workspace, _at(32)))
    await wire.quiet(3)
    expired_events = wire.on(Topic.CERTIFICATE_EXPIRED)
    assert len([r for r in expired_events if r.body["certificate_id"] == bought.certificate_id]) == 1
    redeem = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, redeem)
    (refused,) = await wire.wait_for(Topic.REDEMPTION_REJECTED, lambda b: b["request_id"] == redeem["request_id"])
    assert refused.body["reason"] == "expired"
    assert await _void_refusal(wire, messages.void(workspace, bought.certificate_id)) == "expired"


async def test_expiring_soon_is_published_once_when_a_tick_finds_it_in_the_reminder_window(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, expiry_days=60, reminder_days=30)
    bought = await buy(wire, db, workspace)
    await wire.send(Topic.EXPIRY_TICK, messages.tick(workspace, _at(10)))  # 50 days left: not yet
    await wire.send(Topic.EXPIRY_TICK, messages.tick(workspace, _at(40)))
    await wire.send(Topic.EXPIRY_TICK, messages.tick(workspace, _at(45)))
    (soon,) = await wire.wait_for(
        Topic.CERTIFICATE_EXPIRING_SOON, lambda b: b["certificate_id"] == bought.certificate_id
    )
    assert soon.body["recipient_email"] == "robin@example.com"
    assert soon.body["expires_at"] == bought.activated["expires_at"]
    await wire.quiet(3)
    assert len(
        [r for r in wire.on(Topic.CERTIFICATE_EXPIRING_SOON) if r.body["certificate_id"] == bought.certificate_id]
    ) == 1
    assert await _status(db, bought.certificate_id) == "active"
