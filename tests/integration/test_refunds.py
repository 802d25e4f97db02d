"""Contract v2's booking-refund-request over the real broker and PostgreSQL: each outcome's row, the
exact fields of certificate-refunded and refund-rejected, and concurrent refunds of one redemption
that never add up to more than it applied."""

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.ledger.refund import refund_certificate
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.inbound import RefundCertificate
from giftcert_contracts.outbound import CertificateRefunded, RefundRejected
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.fakes import FixedClock
from tests.integration.test_redemption import _decision
from tests.scenario import buy, configure, first_reply

pytestmark = pytest.mark.integration

REFUNDED_FIELDS = {
    "workspace_id", "event_id", "occurred_at", "sequence", "request_id", "order_id", "redemption_id",
    "certificate_id", "code_last4", "amount_refunded", "balance_after", "status_after", "expires_at",
}
REJECTED_FIELDS = {
    "workspace_id", "event_id", "occurred_at", "sequence", "request_id", "order_id", "certificate_id", "reason",
    "detail",
}


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


async def _refund_decision(wire: Wire, request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    await wire.send(Topic.BOOKING_REFUND_REQUEST, request)
    topic, body = await first_reply(wire, (Topic.CERTIFICATE_REFUNDED, Topic.REFUND_REJECTED), request["request_id"])
    return ("refunded" if topic is Topic.CERTIFICATE_REFUNDED else "rejected"), body


async def _redeemed(wire: Wire, code: str, workspace: str, **changes: Any) -> dict[str, Any]:
    request = messages.redeem(workspace, code, **changes)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    outcome, body = await _decision(wire, request)
    assert outcome == "redeemed", body
    return body


async def _state(db: AsyncEngine, certificate_id: str) -> tuple[str, int, int]:
    async with db.connect() as connection:
        row = (await connection.execute(
            text(
                "SELECT status, balance_minor, (SELECT sum(amount_minor) FROM ledger_entries"
                " WHERE certificate_id = c.id AND kind IN ('issued', 'redeemed', 'captured', 'refunded'))"
                " FROM certificates AS c WHERE id = :id"
            ),
            {"id": certificate_id},
        )).one()
    return row[0], int(row[1]), int(row[2])


async def test_a_refund_credits_its_redemptions_certificate_and_each_refusal_has_its_row(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await buy(wire, db, workspace)  # EUR 50
    redeemed = await _redeemed(wire, bought.code, workspace, amount=eur(3000))
    order, redemption = redeemed["order_id"], redeemed["request_id"]

    outcome, body = await _refund_decision(wire, messages.refund(workspace, order, redemption, amount=eur(1000)))
    assert outcome == "refunded", body
    assert set(body) == REFUNDED_FIELDS
    assert (body["certificate_id"], body["redemption_id"], body["amount_refunded"], body["balance_after"]) == (
        bought.certificate_id, redemption, eur(1000), eur(3000)
    )
    assert (body["status_after"], body["code_last4"]) == ("active", bought.code[-4:])
    assert body["sequence"] > redeemed["sequence"]
    assert await _state(db, bought.certificate_id) == ("active", 3000, 3000)
    CertificateRefunded.model_validate(body)

    refusals = {
        "unknown_redemption": messages.refund(workspace, order, str(uuid4())),
        "exceeds_redeemed": messages.refund(workspace, order, redemption, amount=eur(2001)),
        "currency_mismatch": messages.refund(workspace, order, redemption, amount={"minor": 100, "currency": "CHF"}),
    }
    for reason, request in refusals.items():
        outcome, body = await _refund_decision(wire, request)
        assert (outcome, body["reason"]) == ("rejected", reason), body
        assert set(body) == REJECTED_FIELDS
        RefundRejected.model_validate(body)
        if reason == "unknown_redemption":
            assert (body["certificate_id"], body["sequence"]) == (None, None)
        else:
            assert body["certificate_id"] == bought.certificate_id
            assert body["sequence"] is not None
    # on another order, the same redemption id is no redemption of it
    elsewhere = messages.refund(workspace, "another-order", redemption)
    assert (await _refund_decision(wire, elsewhere))[1]["reason"] == "unknown_redemption"
    assert await _state(db, bought.certificate_id) == ("active", 3000, 3000)

    void = messages.void(workspace, bought.certificate_id)
    await wire.send(Topic.VOID, void)
    await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == void["request_id"])
    outcome, body = await _refund_decision(wire, messages.refund(workspace, order, redemption))
    assert (outcome, body["reason"], body["certificate_id"]) == ("rejected", "voided", bought.certificate_id)


async def test_in_full_mode_a_refund_is_of_the_whole_redemption_and_makes_the_certificate_active_again(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    redeemed = await _redeemed(wire, bought.code, workspace)
    assert await _state(db, bought.certificate_id) == ("redeemed", 0, 0)
    order, redemption = redeemed["order_id"], redeemed["request_id"]
    outcome, body = await _refund_decision(wire, messages.refund(workspace, order, redemption, amount=eur(4000)))
    assert (outcome, body["reason"]) == ("rejected", "partial_refund_not_allowed")
    whole = messages.refund(workspace, order, redemption, amount=eur(5000))
    outcome, body = await _refund_decision(wire, whole)
    assert (outcome, body["status_after"], body["balance_after"]) == ("refunded", "active", eur(5000))
    assert await _state(db, bought.certificate_id) == ("active", 5000, 5000)
    # the same request again: the same decision, nothing credited twice
    await wire.send(Topic.BOOKING_REFUND_REQUEST, whole)
    first, again = await wire.wait_for(
        Topic.CERTIFICATE_REFUNDED, lambda b: b["request_id"] == whole["request_id"], count=2
    )
    volatile = ("event_id", "occurred_at", "sequence")
    assert {k: v for k, v in again.body.items() if k not in volatile} == {
        k: v for k, v in first.body.items() if k not in volatile
    }
    assert again.body["event_id"] != first.body["event_id"]
    assert await _state(db, bought.certificate_id) == ("active", 5000, 5000)


async def test_concurrent_refunds_of_one_redemption_never_add_up_to_more_than_it_applied(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await buy(wire, db, workspace)
    redeemed = await _redeemed(wire, bought.code, workspace, amount=eur(3000))
    factory = UnitOfWorkFactory(db, event_source="urn:test")
    clock = FixedClock(datetime.now(UTC))
    commands = [
        RefundCertificate.model_validate(
            messages.refund(workspace, redeemed["order_id"], redeemed["request_id"], amount=eur(1000))
        )
        for _ in range(10)
    ]
    replies = await asyncio.gather(*(refund_certificate(c, factory(), clock) for c in commands))
    accepted = [r for r in replies if isinstance(r, CertificateRefunded)]
    assert len(accepted) == 3, [getattr(r, "reason", "refunded") for r in replies]
    assert {r.reason for r in replies if isinstance(r, RefundRejected)} == {"exceeds_redeemed"}
    assert await _state(db, bought.certificate_id) == ("active", 5000, 5000)
    async with db.connect() as connection:
        refunded = (await connection.execute(
            text("SELECT sum(amount_minor) FROM ledger_entries WHERE kind = 'refunded' AND redemption_id = :r"),
            {"r": redeemed["request_id"]},
        )).scalar_one()
    assert refunded == 3000
