"""Settling a payment against its certificate: the certificate becomes active (certificate-activated,
the ledger's issue entry, `purchased` in the activity log) or the payment is refused
(payment-rejected: the payment system refunds).

A `Settlement` decides any number of payments in one open unit of work, keeping the certificates'
state as it goes (a second payment for one certificate finds it active), and writes what they
decided with one statement per table."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.rules import Refusal, refuse_payment
from giftcert.ledger.events import new_event_fields
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry
from giftcert.store.parked_payments import Payment
from giftcert_contracts.outbound import CertificateActivated, Event, PaymentRejected


def reject_as_unknown(payment: Payment, now: datetime, detail: str) -> PaymentRejected:
    return PaymentRejected(
        **new_event_fields(payment.workspace_id, now),
        payment_id=payment.payment_id,
        certificate_id=payment.certificate_id,
        reason="unknown_certificate",
        detail=detail,
    )


class Settlement:
    def __init__(self, uow: UnitOfWork, now: datetime, certificates: Iterable[Certificate] = ()) -> None:
        """`certificates`: those the payments are for, locked by the caller."""
        self.uow, self.now = uow, now
        self.certificates = {c.id: c for c in certificates}
        self.activated: dict[UUID, Certificate] = {}
        self.entries: list[LedgerEntry] = []
        self.activity: list[ActivityEntry] = []

    def settle(self, payment: Payment) -> Event:
        """The decision on `payment`; its writes wait for `write()`."""
        certificate = self.certificates.get(payment.certificate_id)
        if certificate is not None and certificate.workspace_id != payment.workspace_id:
            certificate = None
        refusal = refuse_payment(certificate, amount=payment.amount)
        if refusal is not None or certificate is None:
            refusal = refusal or Refusal("unknown_certificate", "no certificate with this id in this workspace")
            return PaymentRejected(
                **new_event_fields(payment.workspace_id, self.now),
                payment_id=payment.payment_id,
                certificate_id=payment.certificate_id,
                reason=refusal.reason,
                detail=refusal.detail,
            )
        return self._activate(certificate, payment)

    def _activate(self, certificate: Certificate, payment: Payment) -> CertificateActivated:
        now = self.now
        active = certificate.activated(at=now, payment_id=payment.payment_id)
        if active.expires_at is None:
            raise RuntimeError(f"certificate {active.id} was activated without an expiry date")
        self.certificates[active.id] = self.activated[active.id] = active
        self.entries.append(
            LedgerEntry(active.id, active.workspace_id, EntryKind.ISSUED, active.amount, payment.payment_id, now)
        )
        self.activity.append(
            ActivityEntry(active.id, active.workspace_id, ActivityKind.PURCHASED, now, reference=payment.payment_id)
        )
        if active.channel == "portal":
            self.activity.append(ActivityEntry(active.id, active.workspace_id, ActivityKind.ACTIVATED_FROM_PORTAL, now))
        return CertificateActivated(
            **new_event_fields(payment.workspace_id, now),
            certificate_id=active.id,
            code_last4=active.code_last4,
            amount=active.amount.to_money(),
            activated_at=now,
            expires_at=active.expires_at,
            channel=active.channel,
            payment_id=payment.payment_id,
            kind=active.kind,
        )

    async def write(self) -> None:
        await self.uow.certificates.save(*self.activated.values())
        await self.uow.ledger.record(*self.entries)
        await self.uow.activity.add(*self.activity)
        self.activated, self.entries, self.activity = {}, [], []


async def settle_payment(uow: UnitOfWork, payment: Payment, now: datetime) -> Event:
    """Activates the certificate with this payment, or refuses the payment; writes the event to the
    outbox, in the caller's transaction."""
    certificate = await uow.certificates.get(payment.workspace_id, payment.certificate_id, lock=True)
    settlement = Settlement(uow, now, [] if certificate is None else [certificate])
    event = settlement.settle(payment)
    await settlement.write()
    await uow.outbox.add(event)
    return event
