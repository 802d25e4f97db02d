"""payment-completed: activation, then the PDF and the email; a payment that does not fit is
rejected (the payment system refunds); a repeated payment changes and publishes nothing; a payment
that comes before its purchase request waits for it, for the grace period."""

import asyncio
import email
import email.policy
import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.codes import display_code
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.integration.conftest import PAYMENT_GRACE_SECONDS
from tests.scenario import buy, configure, request_purchase

pytestmark = pytest.mark.integration


def _mails_to(folder: Path, certificate_id: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if certificate_id in str(message["Message-ID"]):
            found.append(message)
    return found


async def test_payment_activates_then_the_pdf_is_stored_and_emailed_to_the_recipient(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path
) -> None:
    await configure(db, workspace, expiry_days=90)
    bought = await buy(wire, db, workspace)
    cid = bought.certificate_id
    activated = bought.activated
    assert activated["code_last4"] == bought.code[-4:]
    assert bought.code not in str(activated)
    expires = datetime.fromisoformat(activated["expires_at"]) - datetime.fromisoformat(activated["activated_at"])
    assert expires == timedelta(days=90)

    (ready,) = await wire.wait_for(Topic.PDF_READY, lambda b: b["certificate_id"] == cid)
    (sent,) = await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid)
    assert sent.body["to"] == "robin@example.com"
    assert sent.body["document_id"] == ready.body["document_id"]

    async with db.connect() as connection:
        content = (await connection.execute(
            text("SELECT content FROM documents WHERE certificate_id = :id"), {"id": cid}
        )).scalar_one()
        kinds = (await connection.execute(
            text("SELECT kind FROM certificate_activity WHERE certificate_id = :id ORDER BY id"), {"id": cid}
        )).scalars().all()
    assert hashlib.sha256(content).hexdigest() == ready.body["sha256"]
    assert len(content) == ready.body["size_bytes"]
    assert kinds == ["created", "purchased_from_portal", "purchased", "activated_from_portal", "sent"]

    (mail,) = _mails_to(mail_folder, cid)
    assert mail["To"].addresses[0].addr_spec == "robin@example.com"
    assert display_code(bought.code) in mail.get_body(("plain",)).get_content()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_content() == content


async def test_repeated_payment_activates_once_and_sends_one_pdf_and_one_email(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path
) -> None:
    await configure(db, workspace)
    request = await request_purchase(wire, workspace)
    cid = request["certificate_id"]
    paid = messages.payment(workspace, cid)
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid)
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    await wire.quiet(3)
    assert len([r for r in wire.on(Topic.CERTIFICATE_ACTIVATED) if r.body["certificate_id"] == cid]) == 1
    assert len([r for r in wire.on(Topic.PDF_READY) if r.body["certificate_id"] == cid]) == 1
    assert len([r for r in wire.on(Topic.CERTIFICATE_SENT) if r.body["certificate_id"] == cid]) == 1
    assert not [r for r in wire.on(Topic.PAYMENT_REJECTED) if r.body["certificate_id"] == cid]
    assert len(_mails_to(mail_folder, cid)) == 1


@pytest.mark.parametrize(
    ("payment_changes", "reason"),
    [
        ({"amount": {"minor": 4999, "currency": "EUR"}}, "amount_mismatch"),
        ({"amount": {"minor": 5000, "currency": "USD"}}, "currency_mismatch"),
    ],
)
async def test_payment_that_does_not_match_the_certificate_is_rejected(
    wire: Wire, db: AsyncEngine, workspace: str, payment_changes: dict, reason: str
) -> None:
    await configure(db, workspace)
    request = await request_purchase(wire, workspace)
    cid = request["certificate_id"]
    paid = messages.payment(workspace, cid, **payment_changes)
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    (rejected,) = await wire.wait_for(Topic.PAYMENT_REJECTED, lambda b: b["payment_id"] == paid["payment_id"])
    assert rejected.body["reason"] == reason
    assert rejected.key == cid.encode()


async def _parked(db: AsyncEngine, payment_id: str) -> bool:
    async with db.connect() as connection:
        found = await connection.execute(
            text("SELECT 1 FROM parked_payments WHERE payment_id = :id"), {"id": payment_id}
        )
        return found.first() is not None


async def _wait_until_parked(db: AsyncEngine, payment_id: str) -> None:
    for _ in range(100):
        if await _parked(db, payment_id):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"payment {payment_id} was not parked")


async def test_payment_for_a_certificate_that_never_comes_is_rejected_after_the_grace_period(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    paid = messages.payment(workspace, str(uuid4()))
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    await _wait_until_parked(db, paid["payment_id"])
    assert not [r for r in wire.on(Topic.PAYMENT_REJECTED) if r.body["payment_id"] == paid["payment_id"]]
    (rejected,) = await wire.wait_for(Topic.PAYMENT_REJECTED, lambda b: b["payment_id"] == paid["payment_id"])
    assert rejected.body["reason"] == "unknown_certificate"
    waited = datetime.fromisoformat(rejected.body["occurred_at"]) - datetime.fromisoformat(paid["completed_at"])
    assert waited >= timedelta(seconds=PAYMENT_GRACE_SECONDS)
    assert not await _parked(db, paid["payment_id"])


async def test_a_payment_that_comes_before_its_purchase_request_activates_the_certificate_once(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    request = messages.purchase(workspace)
    cid = request["certificate_id"]
    paid = messages.payment(workspace, cid, amount=request["amount"])
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    await _wait_until_parked(db, paid["payment_id"])
    await wire.send(Topic.PURCHASE_REQUESTED, request)
    (activated,) = await wire.wait_for(Topic.CERTIFICATE_ACTIVATED, lambda b: b["certificate_id"] == cid)
    assert activated.body["payment_id"] == paid["payment_id"]
    await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid)
    await wire.quiet(PAYMENT_GRACE_SECONDS + 1)
    assert len([r for r in wire.on(Topic.CERTIFICATE_ACTIVATED) if r.body["certificate_id"] == cid]) == 1
    assert not [r for r in wire.on(Topic.PAYMENT_REJECTED) if r.body["certificate_id"] == cid]


async def test_a_payment_waiting_for_a_purchase_that_is_refused_is_refused_with_it(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, portal_enabled=False)
    request = messages.purchase(workspace)
    paid = messages.payment(workspace, request["certificate_id"], amount=request["amount"])
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    await _wait_until_parked(db, paid["payment_id"])
    await wire.send(Topic.PURCHASE_REQUESTED, request)
    cid = request["certificate_id"]
    (refused,) = await wire.wait_for(Topic.PURCHASE_REJECTED, lambda b: b["certificate_id"] == cid)
    (rejected,) = await wire.wait_for(Topic.PAYMENT_REJECTED, lambda b: b["payment_id"] == paid["payment_id"])
    assert refused.body["reason"] == "portal_disabled"
    assert rejected.body["reason"] == "unknown_certificate"
    waited = datetime.fromisoformat(rejected.body["occurred_at"]) - datetime.fromisoformat(paid["completed_at"])
    assert waited < timedelta(seconds=PAYMENT_GRACE_SECONDS)


async def test_second_payment_for_an_active_certificate_is_rejected_as_not_pending(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    paid = messages.payment(workspace, bought.certificate_id)
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    (rejected,) = await wire.wait_for(Topic.PAYMENT_REJECTED, lambda b: b["payment_id"] == paid["payment_id"])
    assert rejected.body["reason"] == "not_pending"


async def test_payment_from_another_workspace_cannot_activate_a_certificate(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    request = await request_purchase(wire, workspace)
    cid = request["certificate_id"]
    paid = messages.payment(f"{workspace}-intruder", cid)
    await wire.send(Topic.PAYMENT_COMPLETED, paid)
    (rejected,) = await wire.wait_for(Topic.PAYMENT_REJECTED, lambda b: b["payment_id"] == paid["payment_id"])
    assert rejected.body["reason"] == "unknown_certificate"
