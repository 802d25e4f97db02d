"""Holds in memory (giftcert.store.holds). There are no locks: `lock_certificates_of_due_holds`
only finds the certificates."""

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from giftcert.domain.hold import Hold, HoldState
from tests.fakes.state import Transaction, as_stored, violation


class FakeHoldRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, hold: Hold) -> None:
        state = self._tx.state
        state.require_certificate(hold.certificate_id, "holds")
        if hold.id in state.holds:
            raise violation("holds_pkey", f"hold {hold.id} exists")
        state.holds[hold.id] = as_stored(hold)

    async def save(self, *changed: Hold) -> None:
        holds = self._tx.state.holds
        for hold in changed:
            if hold.id in holds:
                holds[hold.id] = as_stored(hold)

    async def get(self, workspace_id: str, hold_id: UUID) -> Hold | None:
        hold = self._tx.state.holds.get(hold_id)
        return hold if hold is not None and hold.workspace_id == workspace_id else None

    async def live_on(self, certificate_ids: Collection[UUID], now: datetime) -> dict[UUID, int]:
        held: dict[UUID, int] = {}
        for hold in self._tx.state.holds.values():
            if hold.certificate_id in certificate_ids and hold.is_live(now):
                held[hold.certificate_id] = held.get(hold.certificate_id, 0) + hold.amount.minor
        return held

    async def held_for_orders(self, orders: Collection[tuple[str, str]], now: datetime) -> dict[tuple[str, str], int]:
        held: dict[tuple[str, str], int] = {}
        for hold in self._tx.state.holds.values():
            if (pair := (hold.workspace_id, hold.order_id)) in orders and hold.is_live(now):
                held[pair] = held.get(pair, 0) + hold.amount.minor
        return held

    async def lock_certificates_of_due_holds(
        self, workspace_id: str, now: datetime, limit: int, *, skip_locked: bool = True
    ) -> list[UUID]:
        del skip_locked  # nothing holds a row in memory
        due = sorted(
            (h for h in self._tx.state.holds.values() if h.workspace_id == workspace_id and self._due(h, now)),
            key=lambda h: h.expires_at,
        )
        return sorted({h.certificate_id for h in due[:limit]})

    async def due_on(self, certificate_ids: Collection[UUID], now: datetime) -> list[Hold]:
        return sorted(
            (h for h in self._tx.state.holds.values() if h.certificate_id in certificate_ids and self._due(h, now)),
            key=lambda h: (h.expires_at, h.id),
        )

    async def of_order(self, workspace_id: str, order_id: str) -> Sequence[Hold]:
        return sorted(
            (h for h in self._tx.state.holds.values() if (h.workspace_id, h.order_id) == (workspace_id, order_id)),
            key=lambda h: (h.created_at, h.id),
        )

    async def of_certificate(self, certificate_id: UUID) -> Sequence[Hold]:
        return sorted(
            (h for h in self._tx.state.holds.values() if h.certificate_id == certificate_id),
            key=lambda h: (h.created_at, h.id),
        )

    @staticmethod
    def _due(hold: Hold, now: datetime) -> bool:
        return hold.state is HoldState.LIVE and hold.expires_at <= now
