"""Payments that came before their certificate, in memory (giftcert.store.parked_payments).
`lock_certificate_id` is a no-op; taking a payment removes it."""

from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

from giftcert.store.parked_payments import Payment
from tests.fakes.state import ParkedRow, Transaction, as_stored, violation


class FakeParkedPaymentRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def lock_certificate_id(self, certificate_id: UUID) -> None:
        del certificate_id

    async def lock_certificate_ids(self, certificate_ids: Iterable[UUID]) -> None:
        del certificate_ids

    async def park(self, *payments: Payment, now: datetime) -> None:
        rows = self._tx.state.parked_payments
        for payment in payments:
            key = (payment.workspace_id, payment.payment_id)
            if key in rows:
                raise violation("parked_payments_pkey", f"payment {payment.payment_id} is parked")
            rows[key] = as_stored(ParkedRow(as_stored(payment), now))

    async def take_for(self, workspace_id: str, certificate_id: UUID) -> list[Payment]:
        """Removes and returns the certificate's parked payments, first parked first."""
        return self._take(
            lambda r: r.payment.workspace_id == workspace_id and r.payment.certificate_id == certificate_id
        )

    async def take_overdue(self, parked_before: datetime, limit: int) -> list[Payment]:
        """Removes and returns up to `limit` payments parked before `parked_before`, oldest first."""
        return self._take(lambda r: r.parked_at < parked_before, limit)

    def _take(self, matches: Callable[[ParkedRow], bool], limit: int | None = None) -> list[Payment]:
        rows = self._tx.state.parked_payments
        taken = sorted(
            (key for key, row in rows.items() if matches(row)),
            key=lambda key: (rows[key].parked_at, rows[key].payment.payment_id),
        )[:limit]
        return [rows.pop(key).payment for key in taken]
