"""booking-redeem-request -> certificate-redeemed or redemption-rejected.

Requests are decided in batches, one transaction per batch, with the answers one-at-a-time handling
in arrival order would give. The certificate rows a batch may redeem are locked (`FOR NO KEY UPDATE`, in
primary-key order), so of any number of concurrent requests for one code exactly one finds it
active, whether they share a batch or not; the ledger's unique (certificate, request) is the backstop.
What a redemption applies is the workspace's `redemption_mode`'s (rules.amount_to_apply): the whole
balance (`full`, v1) or a part of it (`partial`), never more than the order still owes after its other
certificates; the orders are locked with their failure counts, so what they received is read once
per batch and followed through it.
An order, or a workspace, that has tried too many unknown codes is refused with `too_many_attempts`
without its code being used: attempts throttled when the batch begins are not even looked up.
Each first decision is counted by outcome (`giftcert_redemptions_total`); a repeated request only
gets its stored decision again. Each decided request's key is bound to its fingerprint in the same
transaction (request_keys, decision 33), so the HTTP door refuses that key with another request
whichever door came first; a repeat on Kafka gets the stored decision whatever its body."""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.codes import normalize_code
from giftcert.domain.guessing import GuessingLimit, ThrottleScope
from giftcert.domain.money import Amount
from giftcert.domain.rules import Refusal, amount_to_apply, refuse_redemption
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.idempotency import answer, bind_requests, claim_first
from giftcert.messaging.inbox import InboxKey
from giftcert.metrics import REDEMPTIONS, REDEMPTIONS_THROTTLED
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.money import Balance
from giftcert_contracts.outbound import CertificateRedeemed, Event, RedemptionRejected
from giftcert_contracts.topics import Topic

CONSUMER = "redeem"
_THROTTLED_DETAIL = {
    ThrottleScope.ORDER: "{limit.failures} unknown codes for this order within {limit.window}; try again later",
    ThrottleScope.WORKSPACE: "too many unknown codes in this workspace within {limit.window}; try again later",
}
log = logging.getLogger("giftcert.redemption")


class _Batch:
    """The decisions of one batch, and the writes they make, in one open unit of work."""

    def __init__(self, uow: UnitOfWork, now: datetime, limit: GuessingLimit) -> None:
        self.uow, self.now, self.limit = uow, now, limit
        self.since = limit.window_start(now)
        self.order_failures: dict[tuple[str, str], int] = {}
        self.workspace_failures: dict[str, int] = {}
        self.certificates: dict[tuple[str, str], Certificate] = {}
        self.settings: dict[str, WorkspaceSettings] = {}
        self.applied: dict[tuple[str, str], int] = {}
        """What each order of the batch has received from certificates so far, and its live holds."""
        self.held: dict[UUID, int] = {}
        """What each certificate's live holds reserve."""
        self.redeemed: dict[UUID, Certificate] = {}
        self.entries: list[LedgerEntry] = []
        self.activity: list[ActivityEntry] = []
        self.failures: list[tuple[str, str]] = []

    def throttled(self, command: RedeemCertificate) -> ThrottleScope | None:
        return self.limit.throttled(
            self.order_failures.get((command.workspace_id, command.order_id), 0),
            self.workspace_failures.get(command.workspace_id, 0),
        )

    async def decide(self, commands: Sequence[RedeemCertificate]) -> list[Event]:
        counts = await self.uow.redemption_failures.lock_and_count(
            {(c.workspace_id, c.order_id) for c in commands}, self.since
        )
        self.order_failures, self.workspace_failures = dict(counts.by_order), dict(counts.by_workspace)
        orders = {(c.workspace_id, c.order_id) for c in commands}
        self.applied = await self.uow.ledger.applied_to_orders(orders)
        for workspace_id in sorted({c.workspace_id for c in commands}):
            self.settings[workspace_id] = await self.uow.workspaces.get_or_default(workspace_id)
        # what an order's live holds reserve counts where what it received counts: in `partial` mode
        counting = {(w, o) for w, o in orders if self.settings[w].redemption_mode == "partial"}
        for order, held in (await self.uow.holds.held_for_orders(counting, self.now)).items():
            self.applied[order] = self.applied.get(order, 0) + held
        wanted = {
            (c.workspace_id, code)
            for c in commands
            if self.throttled(c) is None and (code := normalize_code(c.code)) is not None
        }
        self.certificates = await self.uow.certificates.get_many_by_code(wanted, lock=True)
        self.held = await self.uow.holds.live_on([c.id for c in self.certificates.values()], self.now)
        self.uow.hold_writes()  # all read: what follows is written in one statement at the commit
        return [self._decide(c) for c in commands]

    async def write(self) -> None:
        """The redeemed certificates, their ledger entries and activity, the unknown codes tried."""
        await self.uow.certificates.save(*self.redeemed.values())
        await self.uow.ledger.record(*self.entries)
        await self.uow.activity.add(*self.activity)
        await self.uow.redemption_failures.record_many(self.failures, self.now, forget_before=self.since)

    def _decide(self, command: RedeemCertificate) -> Event:
        fields = new_event_fields(command.workspace_id, self.now)
        request = {"request_id": command.request_id, "order_id": command.order_id}
        scope = self.throttled(command)
        if scope is not None:
            REDEMPTIONS_THROTTLED.labels(scope=scope.value).inc()
            log.warning(
                "redemption refused: too many unknown codes for this %s (order %r, workspace %r)",
                scope.value, command.order_id, command.workspace_id,
            )
            detail = _THROTTLED_DETAIL[scope].format(limit=self.limit)
            return RedemptionRejected(**fields, **request, reason="too_many_attempts", detail=detail)
        code = normalize_code(command.code)
        certificate = None if code is None else self.certificates.get((command.workspace_id, code))
        order_total = Amount.of(command.order_total)  # type: ignore[arg-type]
        order = (command.workspace_id, command.order_id)
        refusal = refuse_redemption(
            certificate,
            order_total=order_total,
            segment=command.segment,
            requested_at=command.requested_at,
            now=self.now,
            whole_value=False,
        )
        if refusal is not None or certificate is None or code is None:
            refusal = refusal or Refusal("not_found", "no certificate matches this code")
            if refusal.reason == "not_found":
                self._count_failure(command)
            return RedemptionRejected(**fields, **request, reason=refusal.reason, detail=refusal.detail)
        requested = None if command.amount is None else (command.amount.minor, command.amount.currency)
        applying = amount_to_apply(
            certificate,
            mode=self.settings[command.workspace_id].redemption_mode,
            requested=requested,
            order_total=order_total,
            order_applied=self.applied.get(order, 0),
            held=self.held.get(certificate.id, 0),
        )
        if isinstance(applying, Refusal):
            return RedemptionRejected(**fields, **request, reason=applying.reason, detail=applying.detail)
        redeemed = certificate.applied(applying.minor, at=self.now)
        self.applied[order] = self.applied.get(order, 0) + applying.minor
        self.certificates[(command.workspace_id, code)] = self.redeemed[redeemed.id] = redeemed
        debit = Amount(-applying.minor, applying.currency)
        self.entries.append(
            LedgerEntry(
                redeemed.id, redeemed.workspace_id, EntryKind.REDEEMED, debit, str(command.request_id), self.now,
                order_id=command.order_id,
            )
        )
        self.activity.append(
            ActivityEntry(
                redeemed.id, redeemed.workspace_id, ActivityKind.REDEEMED, self.now, reference=command.order_id
            )
        )
        return CertificateRedeemed(
            **fields,
            **request,
            certificate_id=redeemed.id,
            code_last4=redeemed.code_last4,
            amount_applied=applying.to_money(),
            redeemed_at=self.now,
            hold_id=None,
            balance_after=Balance(minor=redeemed.balance_minor, currency=applying.currency),
            status_after="active" if redeemed.balance_minor else "redeemed",
        )

    def _count_failure(self, command: RedeemCertificate) -> None:
        pair = (command.workspace_id, command.order_id)
        self.failures.append(pair)
        self.order_failures[pair] = self.order_failures.get(pair, 0) + 1
        self.workspace_failures[command.workspace_id] = self.workspace_failures.get(command.workspace_id, 0) + 1


async def redeem_certificates(
    commands: Sequence[RedeemCertificate], uow: UnitOfWork, clock: Clock, guessing: GuessingLimit | None = None,
    traces: Sequence[Mapping[str, str]] | None = None,
) -> list[Event]:
    """One reply per command, in order, from one transaction. `traces`: each command's trace
    context, for its reply (by default the current one)."""
    limit = guessing or GuessingLimit()
    keys = [InboxKey(CONSUMER, c.workspace_id, str(c.request_id)) for c in commands]
    async with uow:
        now = clock.now()
        first = await claim_first(uow, keys, now)
        batch = _Batch(uow, now, limit)
        decisions = await batch.decide([commands[p] for p in first])
        await batch.write()
        await bind_requests(uow, [commands[p] for p in first], Topic.BOOKING_REDEEM_REQUEST, now)
        replies = await answer(uow, keys, dict(zip(first, decisions, strict=True)), now, traces=traces)
        await uow.commit()
    for decision in decisions:
        REDEMPTIONS.labels(outcome=decision.reason if isinstance(decision, RedemptionRejected) else "redeemed").inc()
    return replies


async def redeem_certificate(
    command: RedeemCertificate, uow: UnitOfWork, clock: Clock, guessing: GuessingLimit | None = None
) -> Event:
    (reply,) = await redeem_certificates([command], uow, clock, guessing)
    return reply
