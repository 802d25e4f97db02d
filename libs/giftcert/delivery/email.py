"""pdf-ready -> the email with the PDF to the recipient -> `sent` activity + certificate-sent.

SMTP is outside the database, so this is at-least-once: the inbox is checked before sending and
claimed after the mail server accepted the message. A crash between the two sends the email again,
with the same Message-ID, which lets a mail system drop the copy.

A workspace whose operators deliver certificates themselves (`send_activation_email` off) has its
pdf-ready consumed without an email; they send it later with a resend (delivery/resend.py)."""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID, uuid4

from giftcert.clock import Clock
from giftcert.delivery.certificate_document import certificate_document
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.mail.compose import compose_certificate_email
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.mail.sender import SendEmail
from giftcert.messaging.inbox import InboxKey
from giftcert.messaging.trace_context import continuing
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateSent, PdfReady

CONSUMER = "mail"

log = logging.getLogger("giftcert.mail")


class MissingDocumentError(LookupError):
    pass


def activation_email(
    certificate: Certificate, workspace: WorkspaceSettings, pdf: bytes, *, mail_from: str, sent_at: datetime,
    resend_id: UUID | None = None,
) -> OutgoingEmail:
    """The email that delivers a certificate to its recipient, the same whether the mailer sends it
    on pdf-ready or an operator resends it (`resend_id`: see compose.py)."""
    return compose_certificate_email(
        certificate_document(certificate, workspace), mail_from=mail_from, to_email=certificate.recipient_email,
        pdf=pdf, certificate_id=certificate.id, sent_at=sent_at, resend_id=resend_id,
    )


async def record_sent(
    uow: UnitOfWork, certificate: Certificate, document_id: UUID, now: datetime, *, event_id: UUID | None = None
) -> CertificateSent:
    """`sent` in the activity log and certificate-sent in the outbox, in the caller's transaction
    (which the caller commits): written only once the mail server accepted the email."""
    (sent,) = await record_all_sent(uow, [(certificate, document_id)], now, event_ids=[event_id or uuid4()])
    return sent


async def record_all_sent(
    uow: UnitOfWork, emailed: Sequence[tuple[Certificate, UUID]], now: datetime, *,
    event_ids: Sequence[UUID] | None = None, traces: Sequence[Mapping[str, str]] | None = None,
) -> list[CertificateSent]:
    """`record_sent` for each (certificate, document id), with one statement per table."""
    ids = event_ids or [uuid4() for _ in emailed]
    await uow.activity.add(
        *(ActivityEntry(c.id, c.workspace_id, ActivityKind.SENT, now, reference=str(d)) for c, d in emailed)
    )
    sent = [
        CertificateSent(
            workspace_id=c.workspace_id, event_id=event_id, occurred_at=now, certificate_id=c.id,
            to=c.recipient_email, document_id=d,
        )
        for (c, d), event_id in zip(emailed, ids, strict=True)
    ]
    await uow.outbox.add(*sent, traces=traces)
    return sent


async def send_certificate_emails(
    events: Sequence[PdfReady], new_uow: UnitOfWorkFactory, clock: Clock, send: SendEmail, *, mail_from: str,
    traces: Sequence[Mapping[str, str]] | None = None,
) -> list[CertificateSent | None]:
    """One result per event, in order: its certificate-sent, or None when nothing was sent (handled
    before, or the workspace sends no activation emails). The emails go side by side (as many at
    once as `send` takes); if one fails, those the mail server accepted are recorded, then the error
    is raised (so the batch is retried and they are not sent again). `traces`: each event's trace
    context, for its certificate-sent."""
    keys = [InboxKey(CONSUMER, e.workspace_id, str(e.document_id)) for e in events]
    async with new_uow() as uow:  # only a look: rolled back
        fresh = await uow.inbox.claim_many(keys, clock.now())
        wanted = {k: e for k, e in zip(keys, events, strict=True) if k in fresh}
        ids = {e.certificate_id for e in wanted.values()}
        certificates = await uow.certificates.get_many(ids)
        documents = await uow.documents.of_certificates(ids)
        workspaces = {w: await uow.workspaces.get_or_default(w) for w in {e.workspace_id for e in wanted.values()}}
    cause = {k: traces[p] for p, k in reversed(list(enumerate(keys)))} if traces is not None else None
    handled: dict[InboxKey, tuple[Certificate, UUID] | None] = {}  # None: handled by sending nothing

    async def email(key: InboxKey, event: PdfReady) -> None:
        certificate, document = certificates.get(event.certificate_id), documents.get(event.certificate_id)
        if certificate is None or document is None or certificate.expires_at is None:
            raise MissingDocumentError(f"certificate {event.certificate_id} or its PDF is missing")
        workspace = workspaces[event.workspace_id]
        if not workspace.send_activation_email:
            log.info("certificate %s not emailed: workspace %s sends no activation email",
                     certificate.id, event.workspace_id)
            handled[key] = None
            return
        with continuing(cause.get(key) if cause else None):  # the send's span joins the event's trace
            await send(activation_email(
                certificate, workspace, document.content, mail_from=mail_from, sent_at=clock.now()
            ))
        handled[key] = (certificate, document.id)

    outcomes = await asyncio.gather(*(email(k, e) for k, e in wanted.items()), return_exceptions=True)
    failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
    sent = await _record_sent(new_uow, clock, handled, cause)
    if failure is not None:
        raise failure
    return [sent.pop(k, None) for k in keys]  # an event twice: one certificate-sent


async def _record_sent(
    new_uow: UnitOfWorkFactory, clock: Clock, handled: dict[InboxKey, tuple[Certificate, UUID] | None],
    cause: dict[InboxKey, Mapping[str, str]] | None,
) -> dict[InboxKey, CertificateSent]:
    """Claims the handled keys, and records `sent` for each email the mail server accepted (unless
    another mailer recorded it meanwhile)."""
    if not handled:
        return {}
    async with new_uow() as uow:
        now = clock.now()
        claimed = await uow.inbox.claim_many(handled.keys(), now)
        emailed = [(key, what) for key, what in handled.items() if key in claimed and what is not None]
        traces = None if cause is None else [cause[key] for key, _ in emailed]
        sent = await record_all_sent(uow, [what for _, what in emailed], now, traces=traces)
        await uow.commit()
    return {key: event for (key, _), event in zip(emailed, sent, strict=True)}


async def send_certificate_email(
    event: PdfReady, new_uow: UnitOfWorkFactory, clock: Clock, send: SendEmail, *, mail_from: str
) -> CertificateSent | None:
    (sent,) = await send_certificate_emails([event], new_uow, clock, send, mail_from=mail_from)
    return sent
