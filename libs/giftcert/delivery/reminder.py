"""certificate-expiring-soon -> a reminder email to the recipient -> `reminder_sent` activity.

Once per certificate, at least once like the certificate email (delivery/email.py): the inbox is
checked before sending and claimed, with the activity entry, after the mail server accepted the
email; a crash in between sends it again with the same Message-ID. The contract has no event for
a reminder, so nothing goes to the outbox.

The ledger publishes the event for an active certificate, but a void or a redemption may come
before the mailer handles it: a certificate no longer active gets no reminder (of a code it can no
longer use), and the event is consumed."""

import logging
from datetime import datetime

from giftcert.clock import Clock
from giftcert.delivery.certificate_document import certificate_document
from giftcert.delivery.pdf import UnknownCertificateError
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.mail.compose import compose_reminder_email
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.mail.sender import SendEmail
from giftcert.messaging.inbox import InboxKey
from giftcert.store.activity import ActivityEntry
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateExpiringSoon

CONSUMER = "reminder"

log = logging.getLogger("giftcert.mail")


def reminder_email(
    certificate: Certificate, workspace: WorkspaceSettings, *, mail_from: str, sent_at: datetime
) -> OutgoingEmail:
    return compose_reminder_email(
        certificate_document(certificate, workspace), mail_from=mail_from, to_email=certificate.recipient_email,
        certificate_id=certificate.id, sent_at=sent_at,
    )


async def send_expiry_reminder(
    event: CertificateExpiringSoon, new_uow: UnitOfWorkFactory, clock: Clock, send: SendEmail, *, mail_from: str
) -> bool:
    """True when this call sent the reminder; False for a repeat or a certificate no longer active."""
    key = InboxKey(CONSUMER, event.workspace_id, str(event.certificate_id))
    async with new_uow() as uow:
        if not await uow.inbox.claim(key, clock.now()):
            return False  # rolled back unless the certificate is no longer active: only a look
        certificate = await uow.certificates.get(event.workspace_id, event.certificate_id)
        if certificate is None:
            raise UnknownCertificateError(f"no certificate {event.certificate_id} in workspace {event.workspace_id}")
        if certificate.status is not Status.ACTIVE:
            await uow.commit()  # the claim: handled, by reminding no one
            log.info("no expiry reminder for certificate %s: it is %s", certificate.id, certificate.status)
            return False
        workspace = await uow.workspaces.get_or_default(event.workspace_id)
    await send(reminder_email(certificate, workspace, mail_from=mail_from, sent_at=clock.now()))
    async with new_uow() as uow:
        now = clock.now()
        if not await uow.inbox.claim(key, now):
            return False
        await uow.activity.add(
            ActivityEntry(certificate.id, certificate.workspace_id, ActivityKind.REMINDER_SENT, now)
        )
        await uow.commit()
    return True
