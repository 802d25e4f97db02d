"""The value ledger in memory (giftcert.store.ledger): one entry per (certificate, request)."""

from collections.abc import Collection
from uuid import UUID

from giftcert.domain.money import Amount
from giftcert.store.ledger import APPLIED_KINDS, BALANCE_KINDS, REDEMPTION_KINDS, EntryKind, LedgerEntry, Redemption
from tests.fakes.state import LedgerRow, Transaction, as_stored, violation


class FakeLedgerRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, *entries: LedgerEntry) -> None:
        state = self._tx.state
        for e in entries:
            state.require_certificate(e.certificate_id, "ledger_entries")
            if any(r.certificate_id == e.certificate_id and r.request_id == e.request_id for r in state.ledger):
                raise violation("ledger_entries_certificate_request_key", f"request {e.request_id} is recorded")
            row = LedgerRow(
                e.certificate_id, e.workspace_id, e.kind.value, e.amount.minor, e.amount.currency, e.request_id,
                e.order_id, e.occurred_at, e.redemption_id,
            )
            state.ledger.append(as_stored(row))

    async def balance(self, certificate_id: UUID) -> int:
        ledger = self._tx.state.ledger
        return sum(r.amount_minor for r in ledger if r.certificate_id == certificate_id and r.kind in BALANCE_KINDS)

    async def of_certificate(self, certificate_id: UUID) -> list[LedgerEntry]:
        return [
            LedgerEntry(r.certificate_id, r.workspace_id, EntryKind(r.kind), Amount(r.amount_minor, r.currency),
                        r.request_id, r.occurred_at, r.order_id)
            for r in self._tx.state.ledger
            if r.certificate_id == certificate_id
        ]

    async def order_of_redemption(self, certificate_id: UUID) -> str | None:
        orders = [
            r.order_id
            for r in self._tx.state.ledger
            if r.certificate_id == certificate_id and r.kind == EntryKind.REDEEMED.value
        ]
        return orders[-1] if orders else None

    async def applied_entries_of_order(self, workspace_id: str, order_id: str) -> list[LedgerEntry]:
        return [
            LedgerEntry(
                r.certificate_id, r.workspace_id, EntryKind(r.kind), Amount(r.amount_minor, r.currency), r.request_id,
                r.occurred_at, order_id=r.order_id,
            )
            for r in self._tx.state.ledger
            if (r.workspace_id, r.order_id) == (workspace_id, order_id) and r.kind in APPLIED_KINDS
        ]

    async def orders_paid_by(self, certificate_id: UUID) -> list[str]:
        paid = (EntryKind.REDEEMED.value, EntryKind.CAPTURED.value)
        orders = [
            r.order_id for r in self._tx.state.ledger
            if r.certificate_id == certificate_id and r.kind in paid and r.order_id is not None
        ]
        return list(dict.fromkeys(orders))

    async def applied_to_orders(self, orders: Collection[tuple[str, str]]) -> dict[tuple[str, str], int]:
        applied: dict[tuple[str, str], int] = {}
        for r in self._tx.state.ledger:
            if r.order_id is not None and (r.workspace_id, r.order_id) in orders and r.kind in APPLIED_KINDS:
                pair = (r.workspace_id, r.order_id)
                applied[pair] = applied.get(pair, 0) - r.amount_minor
        return applied

    async def redemptions(self, wanted: Collection[tuple[str, str, str]]) -> dict[tuple[str, str, str], Redemption]:
        found: dict[tuple[str, str, str], Redemption] = {}
        for r in self._tx.state.ledger:
            key = (r.workspace_id, r.order_id or "", r.request_id)
            if r.order_id is not None and key in wanted and r.kind in REDEMPTION_KINDS:
                found[key] = Redemption(r.certificate_id, Amount(-r.amount_minor, r.currency))
        return found

    async def refunded(self, redemptions: Collection[tuple[UUID, str]]) -> dict[tuple[UUID, str], int]:
        refunded: dict[tuple[UUID, str], int] = {}
        for r in self._tx.state.ledger:
            if r.kind == EntryKind.REFUNDED.value and r.redemption_id is not None:
                pair = (r.certificate_id, r.redemption_id)
                if pair in redemptions:
                    refunded[pair] = refunded.get(pair, 0) + r.amount_minor
        return refunded
