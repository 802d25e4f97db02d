"""The value ledger: signed entries per certificate. A debit names its request; the unique
(certificate, request) constraint makes a second debit for one request impossible."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.money import Amount
from giftcert.store.bulk import Writes, columns, insert_rows
from giftcert.store.schema import ledger_entries


class EntryKind(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    certificate_id: UUID
    workspace_id: str
    kind: EntryKind
    amount: Amount
    """Signed: issues add value, debits take it."""
    request_id: str
    occurred_at: datetime
    order_id: str | None = None


_COLUMNS = (
    "certificate_id", "workspace_id", "kind", "amount_minor", "currency", "request_id", "order_id", "occurred_at",
)
_RECORD = insert_rows(ledger_entries, _COLUMNS)


class LedgerRepository:
    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._connection = connection
        self._writes = writes or Writes(connection)

    async def record(self, *entries: LedgerEntry) -> None:
        if entries:
            rows = (
                (e.certificate_id, e.workspace_id, e.kind.value, e.amount.minor, e.amount.currency, e.request_id,
                 e.order_id, e.occurred_at)
                for e in entries
            )
            await self._writes.execute(_RECORD, columns(rows, _COLUMNS))

    async def balance(self, certificate_id: UUID) -> int:
        query = select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
            ledger_entries.c.certificate_id == certificate_id
        )
        return int((await self._connection.execute(query)).scalar_one())

    async def order_of_redemption(self, certificate_id: UUID) -> str | None:
        query = select(ledger_entries.c.order_id).where(
            ledger_entries.c.certificate_id == certificate_id,
            ledger_entries.c.kind == EntryKind.REDEEMED.value,
        )
        return (await self._connection.execute(query)).scalar_one_or_none()
