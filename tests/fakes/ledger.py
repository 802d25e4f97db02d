"""The value ledger in memory (giftcert.store.ledger): one entry per (certificate, request)."""

from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import MultipleResultsFound

from giftcert.domain.money import Amount
from giftcert.store.ledger import EntryKind
from tests.fakes.state import LedgerRow, Transaction, as_stored, violation


class FakeLedgerRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(
        self,
        *,
        certificate_id: UUID,
        workspace_id: str,
        kind: EntryKind,
        amount: Amount,
        request_id: str,
        occurred_at: datetime,
        order_id: str | None = None,
    ) -> None:
        state = self._tx.state
        state.require_certificate(certificate_id, "ledger_entries")
        if any(r.certificate_id == certificate_id and r.request_id == request_id for r in state.ledger):
            raise violation("ledger_entries_certificate_request_key", f"request {request_id} is recorded")
        row = LedgerRow(
            certificate_id, workspace_id, kind.value, amount.minor, amount.currency, request_id, order_id, occurred_at
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
