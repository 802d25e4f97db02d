"""Duplicated and reordered delivery on the real pipeline: every inbound message of a certificate's
whole life is sent twice, one payment comes before its purchase request, and the outcome is the one a
single, ordered delivery gives. Requests with a reply get the same decision twice (under new event
ids); payments and ticks publish nothing new; one PDF and one email per paid certificate."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Received, Wire
from tests.reliability import Recorder
from tests.scenario import code_of, configure

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


async def _twice(wire: Wire, topic: Topic, body: dict[str, Any]) -> None:
    for _ in range(2):
        await wire.send(topic, body)


def _about(wire: Wire, topic: Topic, key: str, value: str) -> list[Received]:
    return [r for r in wire.on(topic) if r.body.get(key) == value]


def _decisions(records: list[Received]) -> set[str]:
    """What a reply decided, without its event id, time and number (a repeat takes the next)."""
    volatile = {"event_id", "occurred_at", "sequence"}
    return {str(sorted((k, str(v)) for k, v in r.body.items() if k not in volatile)) for r in records}


async def _activity(db: AsyncEngine, certificate_id: str) -> list[str]:
    async with db.connect() as connection:
        rows = await connection.execute(
            text("SELECT kind FROM certificate_activity WHERE certificate_id = :id ORDER BY id"),
            {"id": certificate_id},
        )
        return list(rows.scalars())


async def _until_parked(db: AsyncEngine, payment_id: str) -> None:
    """Until the ledger has parked the payment: it then surely came before its purchase request."""

    async def parked() -> None:
        while True:
            async with db.connect() as connection:
                found = await connection.execute(
                    text("SELECT 1 FROM parked_payments WHERE payment_id = :id"), {"id": payment_id}
                )
                if found.first() is not None:
                    return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(parked(), 30)


async def test_every_message_delivered_twice_and_a_payment_before_its_purchase_change_nothing_twice(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path, reliability: Recorder
) -> None:
    await configure(db, workspace, reminder_days=400)  # every active certificate is within the window
    redeemed, voided = messages.purchase(workspace), messages.purchase(workspace)
    early = messages.purchase(workspace)  # its payment comes first
    early_payment = messages.payment(workspace, early["certificate_id"])
    await _twice(wire, Topic.PAYMENT_COMPLETED, early_payment)
    await _until_parked(db, early_payment["payment_id"])
    for purchase in (redeemed, voided, early):
        await _twice(wire, Topic.PURCHASE_REQUESTED, purchase)
    payments = [messages.payment(workspace, p["certificate_id"]) for p in (redeemed, voided)]
    for payment in payments:
        await _twice(wire, Topic.PAYMENT_COMPLETED, payment)
    cids = [p["certificate_id"] for p in (redeemed, voided, early)]
    for cid in cids:
        await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b, c=cid: b["certificate_id"] == c, timeout=60)

    redeem = messages.redeem(workspace, await code_of(db, redeemed["certificate_id"]))
    await _twice(wire, Topic.BOOKING_REDEEM_REQUEST, redeem)
    void = messages.void(workspace, voided["certificate_id"])
    await _twice(wire, Topic.VOID, void)
    await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == void["request_id"], count=2)
    reactivate = messages.reactivate(workspace, voided["certificate_id"])
    await _twice(wire, Topic.REACTIVATE, reactivate)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] == redeem["request_id"], count=2)
    await wire.wait_for(Topic.CERTIFICATE_REACTIVATED, lambda b: b["request_id"] == reactivate["request_id"], count=2)
    tick = messages.tick(workspace, (datetime.now(UTC) + timedelta(days=1)).isoformat())
    await _twice(wire, Topic.EXPIRY_TICK, tick)
    await wire.wait_for(Topic.CERTIFICATE_EXPIRING_SOON, lambda b: b["certificate_id"] in cids[1:], count=2)
    await wire.quiet(3)

    for topic in (Topic.CERTIFICATE_CREATED,):
        for cid in cids:
            replies = _about(wire, topic, "certificate_id", cid)
            assert len(replies) == 2, (topic, cid)
            assert len(_decisions(replies)) == 1
            assert len({r.body["event_id"] for r in replies}) == 2
    for topic, request in (
        (Topic.CERTIFICATE_REDEEMED, redeem), (Topic.CERTIFICATE_VOIDED, void),
        (Topic.CERTIFICATE_REACTIVATED, reactivate),
    ):
        replies = _about(wire, topic, "request_id", request["request_id"])
        assert len(replies) == 2, topic
        assert len(_decisions(replies)) == 1, topic
    for topic in (Topic.CERTIFICATE_ACTIVATED, Topic.PDF_READY, Topic.CERTIFICATE_SENT):
        seen = Counter(r.body["certificate_id"] for r in wire.on(topic) if r.body["certificate_id"] in cids)
        assert seen == dict.fromkeys(cids, 1), topic
    assert not [r for r in wire.on(Topic.PAYMENT_REJECTED) if r.body["certificate_id"] in cids]
    # the parked payment was settled by its purchase request, in that request's transaction, not by the
    # sweep of payments whose grace period ran out (10 minutes by default: the customer would wait)
    (early_activated,) = _about(wire, Topic.CERTIFICATE_ACTIVATED, "certificate_id", early["certificate_id"])
    early_created = _about(wire, Topic.CERTIFICATE_CREATED, "certificate_id", early["certificate_id"])
    assert early_activated.body["occurred_at"] in {r.body["occurred_at"] for r in early_created}
    expiring = [
        r.body["certificate_id"] for r in wire.on(Topic.CERTIFICATE_EXPIRING_SOON) if r.body["certificate_id"] in cids
    ]
    assert sorted(expiring) == sorted(cids[1:])  # the active ones, once each: the repeated tick changed nothing
    for cid in cids:
        assert len(list(mail_folder.glob(f"*certificate-{cid}*.eml"))) == 1
    assert await _activity(db, redeemed["certificate_id"]) == [
        "created", "purchased_from_portal", "purchased", "activated_from_portal", "sent", "redeemed",
    ]
    assert (await _activity(db, voided["certificate_id"]))[-4:-1] == ["sent", "voided", "reactivated"]
    reliability.record(  # 10 messages sent twice, 1 payment ahead of its purchase
        "every inbound message delivered twice; a payment before its purchase", injected=11,
        invariants=[
            "same decision per repeat", "one activation, PDF, email per certificate", "no refund",
            "one expiring-soon per certificate", "activity log = status history",
        ],
    )
