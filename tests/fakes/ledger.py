"""The value ledger in memory (giftcert.store.ledger): one entry per (certificate, request)."""

from uuid import UUID

from sqlalchemy.exc import MultipleResultsFound

from giftcert.store.ledger import EntryKind, LedgerEntry
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
                e.order_id, e.occurred_at,
            )
            state.ledger.append(as_stored(row))

    async def balance(self, certificate_id: UUID) -> int:
        return sum(r.amount_minor for r in self._tx.state.ledger if r.certificate_id == certificate_id)

    async def order_of_redemption(self, certificate_id: UUID) -> str | None:
        orders = [
            r.order_id
            for r in self._tx.state.ledger
            if r.certificate_id == certificate_id and r.kind == EntryKind.REDEEMED.value
        ]
        if len(orders) > 1:
            raise MultipleResultsFound("Multiple rows were found when one or none was required")
        return orders[0] if orders else None
