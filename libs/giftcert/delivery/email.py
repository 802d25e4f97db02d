"""pdf-ready -> the email with the PDF to the recipient -> `sent` activity + certificate-sent.

SMTP is outside the database, so this is at-least-once: the inbox is checked before sending and
claimed after the mail server accepted the message. A crash between the two sends the email again,
with the same Message-ID, which lets a mail system drop the copy.

A workspace whose operators deliver certificates themselves (`send_activation_email` off) has its
pdf-ready consumed without an email; they send it later with a resend (delivery/resend.py)."""

import logging
from datetime import datetime
from email.message import EmailMessage
from uuid import UUID, uuid4

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.mail.compose import compose_certificate_email
from giftcert.mail.sender import SendEmail
from giftcert.messaging.inbox import InboxKey
from giftcert.store.activity import ActivityEntry
from giftcert.store.unit_of_work import UnitOfWork, UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateSent, PdfReady

CONSUMER = "mail"

log = logging.getLogger("giftcert.mail")


class MissingDocumentError(LookupError):
    pass


def activation_email(
    certificate: Certificate, workspace: WorkspaceSettings, pdf: bytes, *, mail_from: str,
    resend_id: UUID | None = None,
) -> EmailMessage:
    """The email that delivers a certificate to its recipient, the same whether the mailer sends it
    on pdf-ready or an operator resends it (`resend_id`: see compose.py)."""
    if certificate.expires_at is None:
        raise ValueError(f"certificate {certificate.id} is not activated: there is nothing to send")
    return compose_certificate_email(
        mail_from=mail_from,
        to_name=certificate.recipient_name,
        to_email=certificate.recipient_email,
        purchaser_name=certificate.purchaser_name,
        workspace_name=workspace.name,
        amount=certificate.amount,
        code=certificate.code,
        expires_at=certificate.expires_at,
        message=certificate.message,
        pdf=pdf,
        certificate_id=certificate.id,
        resend_id=resend_id,
    )


async def record_sent(
    uow: UnitOfWork, certificate: Certificate, document_id: UUID, now: datetime, *, event_id: UUID | None = None
) -> CertificateSent:
    """`sent` in the activity log and certificate-sent in the outbox, in the caller's transaction
    (which the caller commits): written only once the mail server accepted the email."""
    await uow.activity.add(
        ActivityEntry(certificate.id, certificate.workspace_id, ActivityKind.SENT, now, reference=str(document_id))
    )
    sent = CertificateSent(
        workspace_id=certificate.workspace_id,
        event_id=event_id or uuid4(),
        occurred_at=now,
        certificate_id=certificate.id,
        to=certificate.recipient_email,
        document_id=document_id,
    )
    await uow.outbox.add(sent)
    return sent


async def send_certificate_email(
    event: PdfReady, new_uow: UnitOfWorkFactory, clock: Clock, send: SendEmail, *, mail_from: str
) -> CertificateSent | None:
    key = InboxKey(CONSUMER, event.workspace_id, str(event.document_id))
    async with new_uow() as uow:
        if not await uow.inbox.claim(key, clock.now()):
            return None  # rolled back unless the workspace sends no email: only a look
        certificate = await uow.certificates.get(event.workspace_id, event.certificate_id)
        document = await uow.documents.of_certificate(event.certificate_id)
        workspace = await uow.workspaces.get_or_default(event.workspace_id)
        if certificate is None or document is None or certificate.expires_at is None:
            raise MissingDocumentError(f"certificate {event.certificate_id} or its PDF is missing")
        if not workspace.send_activation_email:
            await uow.commit()  # the claim: this pdf-ready is handled, by sending nothing
            log.info(
                "certificate %s not emailed: workspace %s sends no activation email",
                certificate.id, event.workspace_id,
            )
            return None
    message = activation_email(certificate, workspace, document.content, mail_from=mail_from)
    await send(message)
    async with new_uow() as uow:
        now = clock.now()
        if not await uow.inbox.claim(key, now):
            return None
        sent = await record_sent(uow, certificate, document.id, now)
        await uow.commit()
    return sent
