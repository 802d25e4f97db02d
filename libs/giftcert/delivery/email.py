"""pdf-ready -> the email with the PDF to the recipient -> `sent` activity + certificate-sent.

SMTP is outside the database, so this is at-least-once: the inbox is checked before sending and
claimed after the mail server accepted the message. A crash between the two sends the email again,
with the same Message-ID, which lets a mail system drop the copy."""

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from uuid import uuid4

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.mail.compose import compose_certificate_email
from giftcert.messaging.inbox import InboxKey
from giftcert.store.activity import ActivityEntry
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateSent, PdfReady

CONSUMER = "mail"

SendEmail = Callable[[EmailMessage], Awaitable[None]]


class MissingDocumentError(LookupError):
    pass


async def send_certificate_email(
    event: PdfReady, new_uow: UnitOfWorkFactory, clock: Clock, send: SendEmail, *, mail_from: str
) -> CertificateSent | None:
    key = InboxKey(CONSUMER, event.workspace_id, str(event.document_id))
    async with new_uow() as uow:
        if not await uow.inbox.claim(key, clock.now()):
            return None  # rolled back: only a look
        certificate = await uow.certificates.get(event.workspace_id, event.certificate_id)
        document = await uow.documents.of_certificate(event.certificate_id)
        workspace = await uow.workspaces.get_or_default(event.workspace_id)
    if certificate is None or document is None or certificate.expires_at is None:
        raise MissingDocumentError(f"certificate {event.certificate_id} or its PDF is missing")
    message = compose_certificate_email(
        mail_from=mail_from,
        to_name=certificate.recipient_name,
        to_email=certificate.recipient_email,
        purchaser_name=certificate.purchaser_name,
        workspace_name=workspace.name,
        amount=certificate.amount,
        code=certificate.code,
        expires_at=certificate.expires_at,
        message=certificate.message,
        pdf=document.content,
        certificate_id=certificate.id,
    )
    await send(message)
    async with new_uow() as uow:
        now = clock.now()
        if not await uow.inbox.claim(key, now):
            return None
        await uow.activity.add(
            ActivityEntry(certificate.id, certificate.workspace_id, ActivityKind.SENT, now, reference=str(document.id))
        )
        sent = CertificateSent(
            workspace_id=event.workspace_id,
            event_id=uuid4(),
            occurred_at=now,
            certificate_id=certificate.id,
            to=certificate.recipient_email,
            document_id=document.id,
        )
        await uow.outbox.add(sent)
        await uow.commit()
    return sent
