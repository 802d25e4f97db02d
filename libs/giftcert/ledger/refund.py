"""booking-refund-request -> certificate-refunded or refund-rejected.

A refund names its redemption by (order_id, redemption_id: the request_id of the redeem or capture
that applied the value) and credits the certificate that redemption came from: a `refunded` ledger
entry naming the redemption, the certificate's balance and status, its activity and the reply, in
one transaction. Refunds of one redemption never add up to more than it applied: every refund of it
locks its certificate (`FOR NO KEY UPDATE`, a batch's in primary-key order, so two batches cannot
deadlock) before it reads what was refunded of it, so two refunds of one redemption take turns and
the second sees the first. The redemption's own entry is never changed, so it is read unlocked.

A refund that brings the balance above zero makes a redeemed certificate active; one past its
expiry becomes active for the workspace's `refund_validity_days` (domain/certificate.py). A voided
certificate is refused: the operator issues a `credit` certificate instead (decision 28)."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.money import Amount
from giftcert.domain.rules import refuse_refund
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.idempotency import answer, bind_requests, claim_first
from giftcert.messaging.inbox import InboxKey
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry, Redemption
from giftcert_contracts.inbound import RefundCertificate
from giftcert_contracts.money import Balance
from giftcert_contracts.outbound import CertificateRefunded, Event, RefundRejected
from giftcert_contracts.topics import Topic

CONSUMER = "refund"


def _redemption_key(command: RefundCertificate) -> tuple[str, str, str]:
    return command.workspace_id, command.order_id, str(command.redemption_id)


class _Batch:
    """The decisions of one batch, in arrival order, over the certificates it locked."""

    def __init__(self, uow: UnitOfWork, now: datetime) -> None:
        self.uow, self.now = uow, now
        self.redemptions: dict[tuple[str, str, str], Redemption] = {}
        self.certificates: dict[UUID, Certificate] = {}
        self.refunded: dict[tuple[UUID, str], int] = {}
        self.settings: dict[str, WorkspaceSettings] = {}
        self.changed: dict[UUID, Certificate] = {}
        self.entries: list[LedgerEntry] = []
        self.activity: list[ActivityEntry] = []

    async def decide(self, commands: Sequence[RefundCertificate]) -> list[Event]:
        self.redemptions = await self.uow.ledger.redemptions({_redemption_key(c) for c in commands})
        found = {r.certificate_id for r in self.redemptions.values()}
        self.certificates = await self.uow.certificates.get_many(found, lock=True)
        # under the certificates' locks: no other refund of these redemptions can commit meanwhile
        self.refunded = dict(
            await self.uow.ledger.refunded({(r.certificate_id, key[2]) for key, r in self.redemptions.items()})
        )
        for workspace_id in sorted({c.workspace_id for c in commands}):
            self.settings[workspace_id] = await self.uow.workspaces.get_or_default(workspace_id)
        return [self._decide(c) for c in commands]

    async def write(self) -> None:
        await self.uow.certificates.save(*self.changed.values())
        await self.uow.ledger.record(*self.entries)
        await self.uow.activity.add(*self.activity)

    def _decide(self, command: RefundCertificate) -> Event:
        fields = new_event_fields(command.workspace_id, self.now)
        request = {"request_id": command.request_id, "order_id": command.order_id}
        redemption = self.redemptions.get(_redemption_key(command))
        certificate = None if redemption is None else self.certificates.get(redemption.certificate_id)
        settings = self.settings[command.workspace_id]
        redemption_id = str(command.redemption_id)
        before = 0 if certificate is None else self.refunded.get((certificate.id, redemption_id), 0)
        amount = Amount(command.amount.minor, command.amount.currency)
        refusal = refuse_refund(
            certificate,
            applied=None if redemption is None else redemption.applied,
            refunded_before=before,
            amount=amount,
            mode=settings.redemption_mode,
        )
        if refusal is not None or certificate is None:
            assert refusal is not None  # noqa: S101 - refuse_refund refuses a missing certificate
            certificate_id = None if certificate is None else certificate.id
            return RefundRejected(
                **fields, **request, certificate_id=certificate_id, reason=refusal.reason, detail=refusal.detail
            )
        validity = timedelta(days=settings.refund_validity_days)
        credited = certificate.refunded(amount.minor, at=self.now, validity=validity)
        self.certificates[credited.id] = self.changed[credited.id] = credited
        self.refunded[(credited.id, redemption_id)] = before + amount.minor
        self.entries.append(
            LedgerEntry(
                credited.id, credited.workspace_id, EntryKind.REFUNDED, amount, str(command.request_id), self.now,
                order_id=command.order_id, redemption_id=redemption_id,
            )
        )
        self.activity.append(
            ActivityEntry(
                credited.id, credited.workspace_id, ActivityKind.REFUNDED, self.now,
                reason=command.reason, reference=command.order_id,
            )
        )
        assert credited.expires_at is not None  # noqa: S101 - a certificate that was redeemed was paid
        return CertificateRefunded(
            **fields,
            **request,
            redemption_id=command.redemption_id,
            certificate_id=credited.id,
            code_last4=credited.code_last4,
            amount_refunded=command.amount,
            balance_after=Balance(minor=credited.balance_minor, currency=amount.currency),
            status_after="active",
            expires_at=credited.expires_at,
        )


async def refund_certificates(
    commands: Sequence[RefundCertificate], uow: UnitOfWork, clock: Clock,
    traces: Sequence[Mapping[str, str]] | None = None,
) -> list[Event]:
    """One reply per command, in order, from one transaction; a repeated request_id gets its first
    decision again. `traces`: each command's trace context, for its reply."""
    keys = [InboxKey(CONSUMER, c.workspace_id, str(c.request_id)) for c in commands]
    async with uow:
        now = clock.now()
        first = await claim_first(uow, keys, now)
        await bind_requests(uow, [commands[p] for p in first], Topic.BOOKING_REFUND_REQUEST, now)
        batch = _Batch(uow, now)
        decisions = await batch.decide([commands[p] for p in first])
        await batch.write()
        replies = await answer(uow, keys, dict(zip(first, decisions, strict=True)), now, traces=traces)
        await uow.commit()
    return replies


async def refund_certificate(command: RefundCertificate, uow: UnitOfWork, clock: Clock) -> Event:
    (reply,) = await refund_certificates([command], uow, clock)
    return reply
