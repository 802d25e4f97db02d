"""Certificates sold through the portal or issued by an operator, and payments taken offline.

Both go through the ledger's own decisions (giftcert.ledger): a purchase started over HTTP is
decided exactly as a `purchase-requested` message with the same certificate id would be, and an
offline payment exactly as a `payment-completed` message; their events leave through the outbox."""

from dataclasses import dataclass
from uuid import UUID

from giftcert.clock import Clock
from giftcert.domain.certificate import Certificate, Status
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import decide_purchase_request
from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.request_keys import bind_request_key, key_of
from giftcert.store.unit_of_work import NewPostgresUnitOfWork
from giftcert_contracts.inbound import PaymentCompleted, PurchaseRequested
from giftcert_contracts.outbound import PaymentRejected, PurchaseRejected
from giftcert_contracts.topics import Topic


@dataclass(frozen=True, slots=True)
class Issued:
    certificate: Certificate
    created_now: bool
    """False for a repeat of a request already decided: the same certificate, as it is now."""


async def issue_certificate(command: PurchaseRequested, new_uow: NewPostgresUnitOfWork, clock: Clock) -> Issued:
    """The certificate this purchase request creates (or created before); CommandRefusedError with
    the contract's `purchase-rejected` reason otherwise; IdempotencyKeyReusedError when the
    certificate id came before with another request."""
    await bind_request_key(new_uow, clock, key_of(command, Topic.PURCHASE_REQUESTED, "certificate_id"))
    decided = await decide_purchase_request(command, new_uow(), clock)
    if isinstance(decided.reply, PurchaseRejected):
        raise CommandRefusedError(decided.reply.reason, decided.reply.detail)
    async with new_uow() as uow:
        certificate = await uow.certificates.get(command.workspace_id, command.certificate_id)
    if certificate is None:
        raise CertificateNotFoundError(command.workspace_id, command.certificate_id)
    return Issued(certificate, created_now=decided.first)


async def record_offline_payment(
    workspace_id: str, certificate_id: UUID, payment_reference: str, new_uow: NewPostgresUnitOfWork, clock: Clock
) -> Certificate:
    """Activates a pending certificate with a payment taken outside the payment system (cash, bank
    transfer, a card terminal on the phone). The reference is the payment's idempotency key: the
    same reference again returns the certificate it activated; with another certificate, it is
    IdempotencyKeyReusedError."""
    async with new_uow() as uow:
        certificate = await uow.certificates.get(workspace_id, certificate_id)
    if certificate is None:  # an unknown id would be parked like an early payment; here it is a mistake
        raise CertificateNotFoundError(workspace_id, certificate_id)
    payment = PaymentCompleted(
        workspace_id=workspace_id,
        payment_id=payment_reference,
        certificate_id=certificate_id,
        amount=certificate.amount.to_money(),
        completed_at=clock.now(),
    )
    await bind_request_key(new_uow, clock, key_of(payment, Topic.PAYMENT_COMPLETED, "payment_id"))
    event = await activate_certificate(payment, new_uow(), clock)
    if isinstance(event, PaymentRejected):
        raise CommandRefusedError(event.reason, event.detail)
    async with new_uow() as uow:
        now_paid = await uow.certificates.get(workspace_id, certificate_id)
    if now_paid is None or now_paid.status is Status.PENDING or now_paid.payment_id != payment_reference:
        raise CommandRefusedError(
            "payment_reference_used", "this payment reference was already recorded for another payment"
        )
    return now_paid
