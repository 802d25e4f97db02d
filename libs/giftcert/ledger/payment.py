"""payment-completed -> the pending certificate becomes active (certificate-activated), or the
payment does not fit (payment-rejected: the payment system refunds). A repeated payment_id
changes and publishes nothing.

Messages may arrive out of order: a payment for a certificate id that exists nowhere yet is parked
(store/parked_payments.py) instead of refused. The purchase request settles it when it comes
(purchase.py); after the grace period it is refused as `unknown_certificate` (overdue_payments.py).
A payment for a certificate whose purchase request was already refused is refused at once: no
certificate will come, and the payment system should not wait the grace period to refund.

Payments are decided in batches, one transaction per batch, with the outcomes one-at-a-time
handling in arrival order would give (settlement.py keeps the certificates' state as it goes).
A payment_id is recognised for ever by the certificate it paid, after its inbox key is pruned too."""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from giftcert.clock import Clock
from giftcert.domain.certificate import Certificate
from giftcert.domain.money import Amount
from giftcert.ledger.idempotency import claim_first
from giftcert.ledger.settlement import Settlement, reject_as_unknown
from giftcert.messaging.inbox import InboxKey
from giftcert.messaging.trace_context import continuing
from giftcert.ports import UnitOfWork
from giftcert.store.parked_payments import Payment
from giftcert_contracts.inbound import PaymentCompleted
from giftcert_contracts.outbound import Event, PurchaseRejected

CONSUMER = "payment"
PURCHASE_CONSUMER = "purchase"  # giftcert.ledger.purchase.CONSUMER (that module imports this one)
log = logging.getLogger("giftcert.payment")


def _payment(command: PaymentCompleted) -> Payment:
    return Payment(
        command.workspace_id, command.payment_id, command.certificate_id, Amount.of(command.amount),
        command.completed_at,
    )


async def activate_certificates(
    commands: Sequence[PaymentCompleted], uow: UnitOfWork, clock: Clock,
    traces: Sequence[Mapping[str, str]] | None = None,
) -> list[Event | None]:
    """One result per command, in order, from one transaction: the event published, or None for a
    repeat (a payment_id seen before, in this batch or earlier) or a parked payment. `traces`: each
    command's trace context, for its event (by default the current one)."""
    async with uow:
        now = clock.now()
        first = await claim_first(uow, [InboxKey(CONSUMER, c.workspace_id, c.payment_id) for c in commands], now)
        fresh = [commands[p] for p in first]  # a repeat changes and publishes nothing
        ids = {c.certificate_id for c in fresh}
        await uow.parked_payments.lock_certificate_ids(ids)  # before looking: see purchase.py
        existing = await uow.certificates.get_many(ids, lock=True)
        refused = await _refused_purchases(uow, [c for c in fresh if c.certificate_id not in existing], now)
        settlement = Settlement(uow, now, existing.values())
        uow.hold_writes()  # all read: what follows is written in one statement at the commit
        decided: dict[int, Event | None] = {}
        parked: list[tuple[int, Payment]] = []
        for position in first:
            command, payment = commands[position], _payment(commands[position])
            if _paid_by(settlement.certificates.get(command.certificate_id), command):
                decided[position] = None  # its inbox key was pruned: still a repeat, never a refund
            elif command.certificate_id in existing:
                decided[position] = settlement.settle(payment)
            elif (command.workspace_id, command.certificate_id) in refused:  # nothing will come: refund at once
                decided[position] = reject_as_unknown(payment, now, "the purchase request was rejected")
            else:
                parked.append((position, payment))
                decided[position] = None
        await settlement.write()
        await uow.parked_payments.park(*(payment for _, payment in parked), now=now)
        published = [(event, position) for position, event in decided.items() if event is not None]
        await uow.outbox.add(
            *(event for event, _ in published), traces=None if traces is None else [traces[p] for _, p in published]
        )
        await uow.commit()
    for position, payment in parked:
        with continuing(None if traces is None else traces[position]):
            log.info(
                "payment %r parked: certificate %s is not known yet", payment.payment_id, payment.certificate_id,
                extra={"about_message": {"workspace_id": payment.workspace_id, "message_id": payment.payment_id,
                                         "certificate_id": payment.certificate_id}},  # runtime/json_logs.py
            )
    return [decided.get(position) for position in range(len(commands))]


def _paid_by(certificate: Certificate | None, command: PaymentCompleted) -> bool:
    """Whether this payment is the one that paid the certificate: kept on it for ever, so a repeat
    is recognised after its inbox key is pruned (GIFTCERT_DEDUPE_DAYS)."""
    return (
        certificate is not None
        and certificate.workspace_id == command.workspace_id
        and certificate.payment_id == command.payment_id
    )


async def activate_certificate(command: PaymentCompleted, uow: UnitOfWork, clock: Clock) -> Event | None:
    """Returns the event published, or None for a repeat or a parked payment."""
    (event,) = await activate_certificates([command], uow, clock)
    return event


async def _refused_purchases(
    uow: UnitOfWork, commands: Sequence[PaymentCompleted], now: datetime
) -> set[tuple[str, UUID]]:
    """The (workspace, certificate) pairs of `commands` whose purchase request was refused."""
    keys = {InboxKey(PURCHASE_CONSUMER, c.workspace_id, str(c.certificate_id)) for c in commands}
    decisions = await uow.inbox.stored_replies(keys, occurred_at=now)
    return {
        (key.workspace_id, UUID(key.key))
        for key, decision in decisions.items()
        if isinstance(decision, PurchaseRejected)
    }
