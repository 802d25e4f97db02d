"""certificate-redeemed leaving a balance -> a short email to the recipient saying what is left ->
`remaining_balance_sent` activity.

Only where the workspace asks for it (`remaining_balance_email`, off by default), and only for a
redemption that left the certificate `active` (`status_after`): a redemption that used it up, or
one from v1 that says nothing of a balance, sends nothing. Once per redemption (the inbox key is the
redemption's `request_id`: a repeated reply of the same decision is a new event of the same
redemption), at least once like the other emails: the inbox is checked before sending and claimed,
with the activity entry, after the mail server accepted the email; a crash in between sends it again
with the same Message-ID. The balance told is the event's `balance_after`: what this booking left.
A certificate no longer active when the mailer gets to it (voided, used up since) gets no email."""

import logging
from datetime import datetime

from giftcert.clock import Clock
from giftcert.delivery.certificate_document import certificate_document
from giftcert.delivery.pdf import UnknownCertificateError
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.mail.compose import compose_remaining_balance_email
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.mail.sender import SendEmail
from giftcert.messaging.inbox import InboxKey
from giftcert.store.activity import ActivityEntry
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateRedeemed

CONSUMER = "remaining-balance"

log = logging.getLogger("giftcert.mail")


def leaves_a_balance(event: CertificateRedeemed) -> bool:
    return event.status_after == "active" and event.balance_after is not None and event.balance_after.minor > 0


def remaining_balance_email(
    event: CertificateRedeemed, certificate: Certificate, workspace: WorkspaceSettings, *, mail_from: str,
    sent_at: datetime,
) -> OutgoingEmail:
    if event.balance_after is None:
        raise ValueError(f"redemption {event.request_id} names no balance")
    return compose_remaining_balance_email(
        certificate_document(certificate, workspace), mail_from=mail_from, to_email=certificate.recipient_email,
        applied=Amount.of(event.amount_applied),
        balance=Amount(event.balance_after.minor, event.balance_after.currency),
        redemption_id=event.request_id, sent_at=sent_at,
    )


async def send_remaining_balance_email(
    event: CertificateRedeemed, new_uow: UnitOfWorkFactory, clock: Clock, send: SendEmail, *, mail_from: str
) -> bool:
    """True when this call sent the email; False for a redemption that left nothing, a workspace
    that sends none, a repeat, or a certificate no longer active."""
    if not leaves_a_balance(event):
        return False
    key = InboxKey(CONSUMER, event.workspace_id, str(event.request_id))
    async with new_uow() as uow:
        if not await uow.inbox.claim(key, clock.now()):
            return False  # rolled back unless nothing is to be sent: only a look
        workspace = await uow.workspaces.get_or_default(event.workspace_id)
        if not workspace.remaining_balance_email:
            await uow.commit()  # the claim: handled, by emailing no one
            return False
        certificate = await uow.certificates.get(event.workspace_id, event.certificate_id)
        if certificate is None:
            raise UnknownCertificateError(f"no certificate {event.certificate_id} in workspace {event.workspace_id}")
        if certificate.status is not Status.ACTIVE:
            await uow.commit()
            log.info("no remaining-balance email for certificate %s: it is %s", certificate.id, certificate.status)
            return False
    await send(remaining_balance_email(event, certificate, workspace, mail_from=mail_from, sent_at=clock.now()))
    async with new_uow() as uow:
        now = clock.now()
        if not await uow.inbox.claim(key, now):
            return False
        await uow.activity.add(ActivityEntry(
            certificate.id, certificate.workspace_id, ActivityKind.REMAINING_BALANCE_SENT, now,
            reference=str(event.request_id),
        ))
        await uow.commit()
    return True
