"""The mailer's reminder before expiry, a workspace that sends no activation email, an operator's
resend and PDF download: on the real broker, database and SMTP sink."""

import asyncio
import email
import email.policy
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.clock import SystemClock
from giftcert.delivery.certificate_document import document_id_of
from giftcert.delivery.pdf import (
    CertificateNotPaidError,
    DocumentNotAvailableError,
    UnknownCertificateError,
    certificate_pdf,
)
from giftcert.delivery.resend import CertificateNotSendableError, resend_certificate_email
from giftcert.domain.codes import display_code
from giftcert.mail.sender import smtp_sender
from giftcert.settings import Settings
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.scenario import buy, configure, request_purchase

pytestmark = pytest.mark.integration


def _at(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _mails(folder: Path, message_id_part: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message_id_part in str(message["Message-ID"]):
            found.append(message)
    return found


async def _activity(db: AsyncEngine, cid: str) -> list[tuple[str, str | None]]:
    async with db.connect() as connection:
        rows = await connection.execute(
            text("SELECT kind, reference FROM certificate_activity WHERE certificate_id = :id ORDER BY id"),
            {"id": cid},
        )
        return [(row.kind, row.reference) for row in rows]


async def _kinds(db: AsyncEngine, cid: str) -> list[str]:
    return [kind for kind, _ in await _activity(db, cid)]


async def _stored_pdf(db: AsyncEngine, cid: str) -> bytes | None:
    async with db.connect() as connection:
        content = (await connection.execute(
            text("SELECT content FROM documents WHERE certificate_id = :id"), {"id": cid}
        )).scalar_one_or_none()
    return None if content is None else bytes(content)


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not seen within {timeout}s: {what}")
        await asyncio.sleep(0.1)


def _new_uow(db: AsyncEngine, settings: Settings) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(db, event_source=settings.event_source)


async def _resend(db: AsyncEngine, settings: Settings, workspace: str, cid: str) -> None:
    await resend_certificate_email(
        workspace, UUID(cid), _new_uow(db, settings), SystemClock(), smtp_sender(settings),
        mail_from=settings.mail_from,
    )


# --- the reminder ---------------------------------------------------------------------------------


async def test_a_reminder_reaches_the_recipient_once_even_when_expiring_soon_comes_twice(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path
) -> None:
    await configure(db, workspace, expiry_days=60, reminder_days=30)
    bought = await buy(wire, db, workspace)
    cid = bought.certificate_id
    await wire.send(Topic.EXPIRY_TICK, messages.tick(workspace, _at(40)))
    (soon,) = await wire.wait_for(Topic.CERTIFICATE_EXPIRING_SOON, lambda b: b["certificate_id"] == cid)
    await wire.send(Topic.CERTIFICATE_EXPIRING_SOON, soon.value, key=cid)  # delivered again

    async def reminded() -> bool:
        return "reminder_sent" in await _kinds(db, cid)

    await _eventually(reminded, "reminder_sent in the activity log")
    await wire.wait_for(Topic.CERTIFICATE_EXPIRING_SOON, lambda b: b["certificate_id"] == cid, count=2)
    await wire.quiet(3)

    assert (await _kinds(db, cid)).count("reminder_sent") == 1
    (reminder,) = _mails(mail_folder, f"reminder-{cid}")
    assert reminder["To"].addresses[0].addr_spec == "robin@example.com"
    body = reminder.get_body(("plain",)).get_content()
    assert display_code(bought.code) in body
    assert f"Tours {workspace}" in body
    assert "€50.00" in body  # as Babel writes it for English, the workspace's default
    expires_at = datetime.fromisoformat(bought.activated["expires_at"])
    assert f"{expires_at:%B} {expires_at.day}, {expires_at.year}" in body
    assert not list(reminder.iter_attachments())
    assert bought.code not in str(soon.value)


async def test_a_certificate_voided_before_its_reminder_is_handled_gets_no_reminder(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path
) -> None:
    await configure(db, workspace, expiry_days=60, reminder_days=30)
    bought = await buy(wire, db, workspace)
    cid = bought.certificate_id
    void = messages.void(workspace, cid)
    await wire.send(Topic.VOID, void)
    await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == void["request_id"])
    # the ledger publishes expiring-soon for active certificates only: this one is the event as it
    # would be had the void come between its publication and the mailer
    soon = {
        "workspace_id": workspace, "event_id": str(uuid4()), "occurred_at": _at(0), "certificate_id": cid,
        "expires_at": bought.activated["expires_at"], "recipient_email": "robin@example.com",
    }
    await wire.send(Topic.CERTIFICATE_EXPIRING_SOON, soon, key=cid)

    async def consumed() -> bool:
        async with db.connect() as connection:
            found = await connection.execute(
                text("SELECT 1 FROM inbox WHERE consumer = 'reminder' AND workspace_id = :ws AND key = :key"),
                {"ws": workspace, "key": cid},
            )
            return found.first() is not None

    await _eventually(consumed, "the reminder's inbox row")
    assert "reminder_sent" not in await _kinds(db, cid)
    assert not _mails(mail_folder, f"reminder-{cid}")


# --- the activation email switch ------------------------------------------------------------------


async def test_a_workspace_that_sends_no_activation_email_gets_the_pdf_but_no_email_and_no_sent(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path
) -> None:
    await configure(db, workspace, send_activation_email=False)
    bought = await buy(wire, db, workspace)
    cid = bought.certificate_id
    (ready,) = await wire.wait_for(Topic.PDF_READY, lambda b: b["certificate_id"] == cid)

    async def consumed() -> bool:
        async with db.connect() as connection:
            found = await connection.execute(
                text("SELECT 1 FROM inbox WHERE consumer = 'mail' AND workspace_id = :ws AND key = :key"),
                {"ws": workspace, "key": ready.body["document_id"]},
            )
            return found.first() is not None

    await _eventually(consumed, "the pdf-ready's inbox row")
    await wire.quiet(2)
    assert not [r for r in wire.on(Topic.CERTIFICATE_SENT) if r.body["certificate_id"] == cid]
    assert "sent" not in await _kinds(db, cid)
    assert not _mails(mail_folder, cid)
    assert await _stored_pdf(db, cid) is not None


# --- resend ---------------------------------------------------------------------------------------


async def test_resend_emails_the_certificate_again_logs_sent_twice_and_publishes_certificate_sent_again(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path, settings: Settings
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    cid = bought.certificate_id
    (first,) = await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid)

    await _resend(db, settings, workspace, cid)

    first_sent, again = await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid, count=2)
    assert first_sent.body["event_id"] == first.body["event_id"]
    assert again.body["event_id"] != first.body["event_id"]
    assert again.body["document_id"] == first.body["document_id"] == str(document_id_of(UUID(cid)))
    assert again.body["to"] == "robin@example.com"
    sent = [(kind, reference) for kind, reference in await _activity(db, cid) if kind == "sent"]
    assert sent == [("sent", str(document_id_of(UUID(cid))))] * 2

    original, resent = _mails(mail_folder, cid)
    assert original["Message-ID"] != resent["Message-ID"]  # no mail system drops the resend as a copy
    assert str(resent["Message-ID"]).strip() == f"<certificate-{cid}-resend-{again.body['event_id']}@giftcert.invalid>"
    assert resent["To"].addresses[0].addr_spec == "robin@example.com"
    assert display_code(bought.code) in resent.get_body(("plain",)).get_content()
    (attachment,) = list(resent.iter_attachments())
    assert attachment.get_content() == await _stored_pdf(db, cid)


async def test_resend_of_a_voided_certificate_is_refused_and_sends_nothing(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path, settings: Settings
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    cid = bought.certificate_id
    await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid)
    void = messages.void(workspace, cid)
    await wire.send(Topic.VOID, void)
    await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == void["request_id"])

    with pytest.raises(CertificateNotSendableError, match="voided"):
        await _resend(db, settings, workspace, cid)

    assert (await _kinds(db, cid)).count("sent") == 1
    assert len(_mails(mail_folder, cid)) == 1


async def test_resend_of_a_pending_certificate_is_refused(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path, settings: Settings
) -> None:
    await configure(db, workspace)
    cid = (await request_purchase(wire, workspace))["certificate_id"]
    with pytest.raises(CertificateNotSendableError, match="pending"):
        await _resend(db, settings, workspace, cid)
    assert "sent" not in await _kinds(db, cid)
    assert not _mails(mail_folder, cid)


async def test_resend_of_a_certificate_of_another_workspace_is_an_unknown_certificate(
    wire: Wire, db: AsyncEngine, workspace: str, settings: Settings
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    with pytest.raises(UnknownCertificateError):
        await _resend(db, settings, f"{workspace}-other", bought.certificate_id)


# --- PDF download ---------------------------------------------------------------------------------


async def test_certificate_pdf_is_the_stored_document(
    wire: Wire, db: AsyncEngine, workspace: str, settings: Settings
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    cid = bought.certificate_id
    await wire.wait_for(Topic.PDF_READY, lambda b: b["certificate_id"] == cid)
    stored = await _stored_pdf(db, cid)
    assert stored is not None
    assert await certificate_pdf(_new_uow(db, settings), workspace, UUID(cid)) == stored


async def test_certificate_pdf_without_a_stored_document_is_the_same_bytes_rendered_and_not_stored(
    wire: Wire, db: AsyncEngine, workspace: str, settings: Settings
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    cid = bought.certificate_id
    await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid)
    stored = await _stored_pdf(db, cid)
    async with db.begin() as connection:
        await connection.execute(text("DELETE FROM documents WHERE certificate_id = :id"), {"id": cid})

    rendered = await certificate_pdf(_new_uow(db, settings), workspace, UUID(cid))

    assert rendered == stored
    assert rendered.startswith(b"%PDF")
    assert await _stored_pdf(db, cid) is None


async def test_certificate_pdf_of_a_pending_certificate_is_not_available(
    wire: Wire, db: AsyncEngine, workspace: str, settings: Settings
) -> None:
    await configure(db, workspace)
    cid = (await request_purchase(wire, workspace))["certificate_id"]
    with pytest.raises(CertificateNotPaidError) as refused:
        await certificate_pdf(_new_uow(db, settings), workspace, UUID(cid))
    assert isinstance(refused.value, DocumentNotAvailableError)


async def test_certificate_pdf_of_a_certificate_of_another_workspace_is_an_unknown_certificate(
    wire: Wire, db: AsyncEngine, workspace: str, settings: Settings
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    with pytest.raises(UnknownCertificateError):
        await certificate_pdf(_new_uow(db, settings), f"{workspace}-other", UUID(bought.certificate_id))
    with pytest.raises(UnknownCertificateError):
        await certificate_pdf(_new_uow(db, settings), workspace, uuid4())
