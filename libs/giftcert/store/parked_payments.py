"""Payments that arrived before their certificate existed. They wait here, for the payment grace
period, until the purchase request comes (and settles them) or the grace period ends (and they are
rejected as for an unknown certificate).

A payment and the purchase request of one certificate id can be handled at the same moment by two
consumers. Both take `lock_certificate_id` first, so one of them sees what the other committed: the
payment finds the certificate, or the purchase finds the parked payment."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.money import Amount
from giftcert.store.bulk import Writes, columns, insert_rows
from giftcert.store.schema import parked_payments


@dataclass(frozen=True, slots=True)
class Payment:
    workspace_id: str
    payment_id: str
    certificate_id: UUID
    amount: Amount
    completed_at: datetime


_LOCK_IDS = text(
    "SELECT count(pg_advisory_xact_lock(lock_key)) FROM ("
    " SELECT DISTINCT hashtextextended(id, 8) AS lock_key FROM unnest(CAST(:ids AS text[])) AS id"
    " ORDER BY lock_key) AS keys"
)
_COLUMNS = ("workspace_id", "payment_id", "certificate_id", "amount_minor", "currency", "completed_at", "parked_at")
_PARK = insert_rows(parked_payments, _COLUMNS)


def _payment(row: Any) -> Payment:
    return Payment(
        row.workspace_id, row.payment_id, row.certificate_id, Amount(row.amount_minor, row.currency), row.completed_at
    )


class ParkedPaymentRepository:
    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._connection = connection
        self._writes = writes or Writes(connection)

    async def lock_certificate_id(self, certificate_id: UUID) -> None:
        await self.lock_certificate_ids([certificate_id])

    async def lock_certificate_ids(self, certificate_ids: Iterable[UUID]) -> None:
        """Held until the transaction ends; taken in the order of the lock keys, so two batches
        never wait for each other in a cycle."""
        ids = sorted({str(i) for i in certificate_ids})
        if ids:
            await self._connection.execute(_LOCK_IDS, {"ids": ids})

    async def park(self, *payments: Payment, now: datetime) -> None:
        if payments:
            rows = (
                (p.workspace_id, p.payment_id, p.certificate_id, p.amount.minor, p.amount.currency, p.completed_at, now)
                for p in payments
            )
            await self._writes.execute(_PARK, columns(rows, _COLUMNS))

    async def take_for(self, workspace_id: str, certificate_id: UUID) -> list[Payment]:
        """Removes and returns the certificate's parked payments, first parked first."""
        statement = (
            delete(parked_payments)
            .where(parked_payments.c.workspace_id == workspace_id, parked_payments.c.certificate_id == certificate_id)
            .returning(*parked_payments.c)
        )
        rows = (await self._connection.execute(statement)).all()
        return [_payment(row) for row in sorted(rows, key=lambda row: (row.parked_at, row.payment_id))]

    async def take_overdue(self, parked_before: datetime, limit: int) -> list[Payment]:
        """Removes and returns up to `limit` payments parked before `parked_before`; rows another
        transaction holds are skipped, so several sweepers never take the same payment."""
        overdue = (
            select(parked_payments.c.workspace_id, parked_payments.c.payment_id)
            .where(parked_payments.c.parked_at < parked_before)
            .order_by(parked_payments.c.parked_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        keys: Sequence[Any] = (await self._connection.execute(overdue)).all()
        if not keys:
            return []
        statement = (
            delete(parked_payments)
            .where(tuple_(parked_payments.c.workspace_id, parked_payments.c.payment_id).in_([tuple(k) for k in keys]))
            .returning(*parked_payments.c)
        )
        return [_payment(row) for row in (await self._connection.execute(statement)).all()]
