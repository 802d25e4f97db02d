"""The value ledger: signed entries per certificate. A debit names its request; the unique
(certificate, request) constraint makes a second debit for one request impossible."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.money import Amount
from giftcert.store.schema import ledger_entries


class EntryKind(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"


class LedgerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

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
        await self._connection.execute(
            insert(ledger_entries).values(
                certificate_id=certificate_id,
                workspace_id=workspace_id,
                kind=kind.value,
                amount_minor=amount.minor,
                currency=amount.currency,
                request_id=request_id,
                order_id=order_id,
                occurred_at=occurred_at,
            )
        )

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
