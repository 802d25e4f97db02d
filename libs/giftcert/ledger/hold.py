"""booking-hold-request -> hold-placed or hold-rejected (contract v2).

A hold reserves value of one certificate for one order until `hold_expires_at` (now +
`hold_seconds`, 1 to the workspace's maximum, by default its default). It is decided like a redeem
(ledger/redemption.py): the orders of the batch are locked first, with their unknown-code counts
(the guessing limit counts holds too), then the certificates by code in primary-key order. Under
those locks the handler reads what each order has received (net of refunds) and what its live
holds reserve, and what each certificate's live holds reserve; so of any number of concurrent
holds for one order, or on one certificate, none can spend what another already took. The amount's
rules are the redeem's (rules.amount_to_apply), against what is available (balance - live holds),
and for a hold the order's due counts in both modes. A hold writes a `hold` ledger entry (-) and
changes nothing on the certificate: its balance stays until a capture."""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.codes import normalize_code
from giftcert.domain.guessing import GuessingLimit, ThrottleScope
from giftcert.domain.hold import Hold, HoldState
from giftcert.domain.money import Amount
from giftcert.domain.rules import Refusal, amount_to_apply, refuse_redemption
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.idempotency import answer, bind_requests, claim_first
from giftcert.messaging.inbox import InboxKey
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry
from giftcert_contracts.inbound import HoldCertificate
from giftcert_contracts.money import Balance
from giftcert_contracts.outbound import Event, HoldPlaced, HoldRejected
from giftcert_contracts.topics import Topic

CONSUMER = "hold"
log = logging.getLogger("giftcert.holds")


class _Placing:
    """The decisions of one batch of hold requests, in one open unit of work, in arrival order."""

    def __init__(self, uow: UnitOfWork, now: datetime, limit: GuessingLimit) -> None:
        self.uow, self.now, self.limit = uow, now, limit
        self.since = limit.window_start(now)
        self.order_failures: dict[tuple[str, str], int] = {}
        self.workspace_failures: dict[str, int] = {}
        self.failures: list[tuple[str, str]] = []
        self.settings: dict[str, WorkspaceSettings] = {}
        self.certificates: dict[tuple[str, str], Certificate] = {}
        self.order_taken: dict[tuple[str, str], int] = {}
        """What each order has received (net of refunds) and what its live holds reserve."""
        self.held: dict[UUID, int] = {}
        """What each certificate's live holds reserve."""

    async def decide(self, commands: Sequence[HoldCertificate]) -> list[Event]:
        orders = {(c.workspace_id, c.order_id) for c in commands}
        counts = await self.uow.redemption_failures.lock_and_count(orders, self.since)
        self.order_failures, self.workspace_failures = dict(counts.by_order), dict(counts.by_workspace)
        self.order_taken = await self.uow.ledger.applied_to_orders(orders)
        for order, held in (await self.uow.holds.held_for_orders(orders, self.now)).items():
            self.order_taken[order] = self.order_taken.get(order, 0) + held
        for workspace_id in sorted({c.workspace_id for c in commands}):
            self.settings[workspace_id] = await self.uow.workspaces.get_or_default(workspace_id)
        wanted = {
            (c.workspace_id, code)
            for c in commands
            if self._throttled(c) is None and (code := normalize_code(c.code)) is not None
        }
        self.certificates = await self.uow.certificates.get_many_by_code(wanted, lock=True)
        self.held = await self.uow.holds.live_on([c.id for c in self.certificates.values()], self.now)
        decisions = [await self._decide(c) for c in commands]
        await self.uow.redemption_failures.record_many(self.failures, self.now, forget_before=self.since)
        return decisions

    def _throttled(self, command: HoldCertificate) -> ThrottleScope | None:
        return self.limit.throttled(
            self.order_failures.get((command.workspace_id, command.order_id), 0),
            self.workspace_failures.get(command.workspace_id, 0),
        )

    async def _decide(self, command: HoldCertificate) -> Event:
        if (scope := self._throttled(command)) is not None:
            log.warning("hold refused: too many unknown codes for this %s (order %r)", scope, command.order_id)
            return self._refused(command, Refusal("too_many_attempts", "too many unknown codes; try again later"))
        code = normalize_code(command.code)
        certificate = None if code is None else self.certificates.get((command.workspace_id, code))
        order_total = Amount.of(command.order_total)  # type: ignore[arg-type]
        refusal = refuse_redemption(
            certificate, order_total=order_total, segment=command.segment, requested_at=command.requested_at,
            now=self.now, whole_value=False,
        )
        if refusal is not None or certificate is None:
            refusal = refusal or Refusal("not_found", "no certificate matches this code")
            if refusal.reason == "not_found":
                self._count_failure(command)
            return self._refused(command, refusal, certificate)
        settings = self.settings[command.workspace_id]
        seconds = settings.hold_seconds_default if command.hold_seconds is None else command.hold_seconds
        if not 1 <= seconds <= settings.hold_seconds_max:
            detail = f"a hold lasts 1 to {settings.hold_seconds_max} seconds in this workspace"
            return self._refused(command, Refusal("invalid_hold_seconds", detail), certificate)
        order = (command.workspace_id, command.order_id)
        holding = amount_to_apply(
            certificate,
            mode=settings.redemption_mode,
            requested=None if command.amount is None else (command.amount.minor, command.amount.currency),
            order_total=order_total,
            order_applied=self.order_taken.get(order, 0),
            held=self.held.get(certificate.id, 0),
            whole_order=True,
        )
        if isinstance(holding, Refusal):
            return self._refused(command, holding, certificate)
        return await self._place(command, certificate, holding, self.now + timedelta(seconds=seconds))

    async def _place(
        self, command: HoldCertificate, certificate: Certificate, amount: Amount, expires_at: datetime
    ) -> Event:
        order = (command.workspace_id, command.order_id)
        hold = Hold(
            command.request_id, command.workspace_id, certificate.id, command.order_id, amount, expires_at,
            HoldState.LIVE, self.now,
        )
        await self.uow.holds.add(hold)
        await self.uow.ledger.record(
            LedgerEntry(
                certificate.id, certificate.workspace_id, EntryKind.HOLD, Amount(-amount.minor, amount.currency),
                str(hold.id), self.now, order_id=hold.order_id,
            )
        )
        await self.uow.activity.add(
            ActivityEntry(
                certificate.id, certificate.workspace_id, ActivityKind.HELD, self.now, reference=hold.order_id
            )
        )
        self.held[certificate.id] = held = self.held.get(certificate.id, 0) + amount.minor
        self.order_taken[order] = self.order_taken.get(order, 0) + amount.minor
        return HoldPlaced(
            **new_event_fields(command.workspace_id, self.now),
            request_id=command.request_id,
            hold_id=hold.id,
            order_id=hold.order_id,
            certificate_id=certificate.id,
            code_last4=certificate.code_last4,
            amount_held=amount.to_money(),
            available_after=Balance(minor=certificate.balance_minor - held, currency=amount.currency),
            hold_expires_at=expires_at,
        )

    def _refused(self, command: HoldCertificate, refusal: Refusal, certificate: Certificate | None = None) -> Event:
        return HoldRejected(
            **new_event_fields(command.workspace_id, self.now),
            request_id=command.request_id,
            order_id=command.order_id,
            reason=refusal.reason,
            detail=refusal.detail,
            certificate_id=None if certificate is None else certificate.id,
        )

    def _count_failure(self, command: HoldCertificate) -> None:
        pair = (command.workspace_id, command.order_id)
        self.failures.append(pair)
        self.order_failures[pair] = self.order_failures.get(pair, 0) + 1
        self.workspace_failures[command.workspace_id] = self.workspace_failures.get(command.workspace_id, 0) + 1


async def hold_certificates(
    commands: Sequence[HoldCertificate], uow: UnitOfWork, clock: Clock, guessing: GuessingLimit | None = None,
    traces: Sequence[Mapping[str, str]] | None = None,
) -> list[Event]:
    """One reply per command, in order, from one transaction; a repeated request_id gets its first
    decision again."""
    keys = [InboxKey(CONSUMER, c.workspace_id, str(c.request_id)) for c in commands]
    async with uow:
        now = clock.now()
        first = await claim_first(uow, keys, now)
        await bind_requests(uow, [commands[p] for p in first], Topic.BOOKING_HOLD_REQUEST, now)
        decisions = await _Placing(uow, now, guessing or GuessingLimit()).decide([commands[p] for p in first])
        replies = await answer(uow, keys, dict(zip(first, decisions, strict=True)), now, traces=traces)
        await uow.commit()
    return replies
