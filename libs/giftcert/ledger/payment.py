"""payment-completed -> the pending certificate becomes active (certificate-activated), or the
payment does not fit (payment-rejected: the payment system refunds). A repeated payment_id
changes and publishes nothing.

Messages may arrive out of order: a payment for a certificate id that exists nowhere yet is parked
(store/parked_payments.py) instead of refused. The purchase request settles it when it comes
(purchase.py); after the grace period it is refused as `unknown_certificate` (overdue_payments.py).
A payment for a certificate whose purchase request was already refused is refused at once: no
certificate will come, and the payment system should not wait the grace period to refund."""

import logging
from datetime import datetime
from uuid import uuid4

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.money import Amount
from giftcert.domain.rules import Refusal, refuse_payment
from giftcert.ledger.replies import new_event_fields
from giftcert.messaging.inbox import InboxKey
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry
from giftcert.store.parked_payments import Payment
from giftcert.store.unit_of_work import UnitOfWork
from giftcert_contracts.inbound import PaymentCompleted
from giftcert_contracts.outbound import CertificateActivated, Event, PaymentRejected, PurchaseRejected

CONSUMER = "payment"
PURCHASE_CONSUMER = "purchase"  # giftcert.ledger.purchase.CONSUMER (that module imports this one)
log = logging.getLogger("giftcert.payment")


async def activate_certificate(command: PaymentCompleted, uow: UnitOfWork, clock: Clock) -> Event | None:
    """Returns the event published, or None for a repeat or a parked payment."""
    payment = Payment(
        command.workspace_id, command.payment_id, command.certificate_id, Amount.of(command.amount),
        command.completed_at,
    )
    async with uow:
        now = clock.now()
        if not await uow.inbox.claim(InboxKey(CONSUMER, command.workspace_id, command.payment_id), now):
            await uow.commit()
            return None
        await uow.parked_payments.lock_certificate_id(command.certificate_id)
        if not await uow.certificates.exists_anywhere(command.certificate_id):
            if await _purchase_was_refused(uow, command, now):  # nothing will come: refund at once
                refused = reject_as_unknown(payment, now, "the purchase request was rejected")
                await uow.outbox.add(refused)
                await uow.commit()
                return refused
            await uow.parked_payments.park(payment, now)
            await uow.commit()
            log.info("payment %r parked: certificate %s is not known yet", command.payment_id, command.certificate_id)
            return None
        event = await settle_payment(uow, payment, now)
        await uow.commit()
    return event


async def _purchase_was_refused(uow: UnitOfWork, command: PaymentCompleted, now: datetime) -> bool:
    key = InboxKey(PURCHASE_CONSUMER, command.workspace_id, str(command.certificate_id))
    decision = await uow.inbox.stored_reply(key, event_id=uuid4(), occurred_at=now)
    return isinstance(decision, PurchaseRejected)


def reject_as_unknown(payment: Payment, now: datetime, detail: str) -> PaymentRejected:
    return PaymentRejected(
        **new_event_fields(payment.workspace_id, now),
        payment_id=payment.payment_id,
        certificate_id=payment.certificate_id,
        reason="unknown_certificate",
        detail=detail,
    )


async def settle_payment(uow: UnitOfWork, payment: Payment, now: datetime) -> Event:
    """Activates the certificate with this payment, or refuses the payment; writes the event to the
    outbox, in the caller's transaction."""
    certificate = await uow.certificates.get(payment.workspace_id, payment.certificate_id, lock=True)
    refusal = refuse_payment(certificate, amount=payment.amount)
    event: Event
    if refusal is not None or certificate is None:
        refusal = refusal or Refusal("unknown_certificate", "no certificate with this id in this workspace")
        event = PaymentRejected(
            **new_event_fields(payment.workspace_id, now),
            payment_id=payment.payment_id,
            certificate_id=payment.certificate_id,
            reason=refusal.reason,
            detail=refusal.detail,
        )
    else:
        event = await _activate(uow, certificate, payment, now)
    await uow.outbox.add(event)
    return event


async def _activate(uow: UnitOfWork, certificate: Certificate, payment: Payment, now: datetime) -> CertificateActivated:
    active = certificate.activated(at=now, payment_id=payment.payment_id)
    if active.expires_at is None:
        raise RuntimeError(f"certificate {active.id} was activated without an expiry date")
    await uow.certificates.save(active)
    await uow.ledger.record(
        LedgerEntry(active.id, active.workspace_id, EntryKind.ISSUED, active.amount, payment.payment_id, now)
    )
    purchased = ActivityEntry(active.id, active.workspace_id, ActivityKind.PURCHASED, now, reference=payment.payment_id)
    if active.channel == "portal":
        await uow.activity.add(
            purchased, ActivityEntry(active.id, active.workspace_id, ActivityKind.ACTIVATED_FROM_PORTAL, now)
        )
    else:
        await uow.activity.add(purchased)
    return CertificateActivated(
        **new_event_fields(payment.workspace_id, now),
        certificate_id=active.id,
        code_last4=active.code_last4,
        amount=active.amount.to_money(),
        activated_at=now,
        expires_at=active.expires_at,
        channel=active.channel,
        payment_id=payment.payment_id,
    )
