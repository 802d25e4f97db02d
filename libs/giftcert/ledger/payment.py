"""payment-completed -> the pending certificate becomes active (certificate-activated), or the
payment does not fit (payment-rejected: the payment system refunds). A repeated payment_id
changes and publishes nothing."""

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.money import Amount
from giftcert.domain.rules import refuse_payment
from giftcert.ledger.replies import new_event_fields
from giftcert.messaging.inbox import InboxKey
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind
from giftcert.store.unit_of_work import UnitOfWork
from giftcert_contracts.inbound import PaymentCompleted
from giftcert_contracts.outbound import CertificateActivated, Event, PaymentRejected

CONSUMER = "payment"


async def activate_certificate(command: PaymentCompleted, uow: UnitOfWork, clock: Clock) -> Event | None:
    async with uow:
        now = clock.now()
        key = InboxKey(CONSUMER, command.workspace_id, command.payment_id)
        if not await uow.inbox.claim(key, now):
            await uow.commit()
            return None
        fields = new_event_fields(command.workspace_id, now)
        certificate = await uow.certificates.get(command.workspace_id, command.certificate_id, lock=True)
        refusal = refuse_payment(certificate, amount=Amount.of(command.amount))
        event: Event
        if refusal is not None or certificate is None:
            event = PaymentRejected(
                **fields,
                payment_id=command.payment_id,
                certificate_id=command.certificate_id,
                reason=refusal.reason if refusal else "unknown_certificate",
                detail=refusal.detail if refusal else "",
            )
        else:
            active = certificate.activated(at=now, payment_id=command.payment_id)
            assert active.expires_at is not None  # noqa: S101 - set by activated()
            await uow.certificates.save(active)
            await uow.ledger.record(
                certificate_id=active.id,
                workspace_id=active.workspace_id,
                kind=EntryKind.ISSUED,
                amount=active.amount,
                request_id=command.payment_id,
                occurred_at=now,
            )
            entries = [
                ActivityEntry(active.id, active.workspace_id, ActivityKind.PURCHASED, now, reference=command.payment_id)
            ]
            if active.channel == "portal":
                entries.append(ActivityEntry(active.id, active.workspace_id, ActivityKind.ACTIVATED_FROM_PORTAL, now))
            await uow.activity.add(*entries)
            event = CertificateActivated(
                **fields,
                certificate_id=active.id,
                code_last4=active.code_last4,
                amount=active.amount.to_money(),
                activated_at=now,
                expires_at=active.expires_at,
                channel=active.channel,
                payment_id=command.payment_id,
            )
        await uow.outbox.add(event)
        await uow.commit()
    return event
