"""Holds in PostgreSQL (contract v2). A hold's state changes only under its certificate's row lock,
so whoever decides about a hold (a capture, a release, a tick) locks the certificate first, then
reads the hold afresh: the certificate, then the hold, in every transaction, so none waits for
another in a cycle. What a hold reserves counts only while it is live at the reader's `now`
(`expires_at` after it): an expired hold reserves nothing even before a tick marks it."""

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import RowMapping, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.hold import Hold, HoldState
from giftcert.domain.money import Amount
from giftcert.store.bulk import Writes, columns, rows_of
from giftcert.store.schema import holds

_LIVE = HoldState.LIVE.value
_SAVE = text(
    "UPDATE holds SET state = v.state, ended_at = v.ended_at, captured_minor = v.captured_minor "  # noqa: S608
    f"FROM {rows_of(holds, ('id', 'state', 'ended_at', 'captured_minor'))} WHERE holds.id = v.id"
)
_HELD_FOR_ORDERS = text(
    "SELECT workspace_id, order_id, sum(amount_minor) FROM holds "  # noqa: S608 - names from the schema
    f"WHERE state = '{_LIVE}' AND expires_at > :now AND (workspace_id, order_id) IN "
    f"(SELECT * FROM {rows_of(holds, ('workspace_id', 'order_id'))}) GROUP BY workspace_id, order_id"
)
_CERTIFICATES_OF_DUE_HOLDS = (
    "SELECT id FROM certificates WHERE id IN (SELECT certificate_id FROM holds"  # noqa: S608 - names from the schema
    f" WHERE workspace_id = :workspace AND state = '{_LIVE}' AND expires_at <= :now ORDER BY expires_at LIMIT :limit)"
    " ORDER BY id FOR NO KEY UPDATE"
)


def _hold(row: RowMapping) -> Hold:
    return Hold(
        id=row["id"], workspace_id=row["workspace_id"], certificate_id=row["certificate_id"],
        order_id=row["order_id"], amount=Amount(row["amount_minor"], row["currency"]),
        expires_at=row["expires_at"], state=HoldState(row["state"]), created_at=row["created_at"],
        ended_at=row["ended_at"], captured_minor=row["captured_minor"],
    )


class HoldRepository:
    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._connection = connection
        self._writes = writes or Writes(connection)

    async def add(self, hold: Hold) -> None:
        await self._connection.execute(
            insert(holds).values(
                id=hold.id, workspace_id=hold.workspace_id, certificate_id=hold.certificate_id,
                order_id=hold.order_id, amount_minor=hold.amount.minor, currency=hold.amount.currency,
                expires_at=hold.expires_at, state=hold.state.value, captured_minor=hold.captured_minor,
                created_at=hold.created_at, ended_at=hold.ended_at,
            )
        )

    async def save(self, *changed: Hold) -> None:
        """Writes each hold's state, end and captured amount (what a hold's end changes)."""
        if changed:
            rows = ((h.id, h.state.value, h.ended_at, h.captured_minor) for h in changed)
            await self._writes.execute(_SAVE, columns(rows, ("id", "state", "ended_at", "captured_minor")))

    async def get(self, workspace_id: str, hold_id: UUID) -> Hold | None:
        query = select(holds).where(holds.c.id == hold_id, holds.c.workspace_id == workspace_id)
        row = (await self._connection.execute(query)).mappings().first()
        return None if row is None else _hold(row)

    async def live_on(self, certificate_ids: Collection[UUID], now: datetime) -> dict[UUID, int]:
        """What the live holds of each certificate reserve at `now` (absent: nothing)."""
        if not certificate_ids:
            return {}
        query = (
            select(holds.c.certificate_id, func.sum(holds.c.amount_minor))
            .where(
                holds.c.certificate_id.in_(sorted(certificate_ids)), holds.c.state == _LIVE, holds.c.expires_at > now
            )
            .group_by(holds.c.certificate_id)
        )
        return {certificate_id: int(held) for certificate_id, held in await self._connection.execute(query)}

    async def held_for_orders(self, orders: Collection[tuple[str, str]], now: datetime) -> dict[tuple[str, str], int]:
        """What the live holds of each (workspace, order) reserve at `now`. Read under the orders'
        locks (redemption_failures.lock_and_count), so no other hold of those orders is placed
        before the transaction ends."""
        if not orders:
            return {}
        rows = await self._connection.execute(
            _HELD_FOR_ORDERS, columns(orders, ("workspace_id", "order_id")) | {"now": now}
        )
        return {(w, o): int(held) for w, o, held in rows}

    async def lock_certificates_of_due_holds(
        self, workspace_id: str, now: datetime, limit: int, *, skip_locked: bool = True
    ) -> list[UUID]:
        """The certificates of up to `limit` live holds past their expiry at `now` (soonest first),
        locked in primary-key order; with `skip_locked`, those another transaction holds are left
        out (a tick's bulk), else waited for (one at a time: see certificates.lock_expired)."""
        statement = text(_CERTIFICATES_OF_DUE_HOLDS + (" SKIP LOCKED" if skip_locked else ""))
        rows = await self._connection.execute(statement, {"workspace": workspace_id, "now": now, "limit": limit})
        return [certificate_id for (certificate_id,) in rows]

    async def due_on(self, certificate_ids: Collection[UUID], now: datetime) -> list[Hold]:
        """The live holds of these certificates past their expiry at `now`, read afresh (their
        certificates locked)."""
        if not certificate_ids:
            return []
        query = (
            select(holds)
            .where(
                holds.c.certificate_id.in_(sorted(certificate_ids)), holds.c.state == _LIVE, holds.c.expires_at <= now
            )
            .order_by(holds.c.expires_at, holds.c.id)
        )
        return [_hold(r) for r in (await self._connection.execute(query)).mappings()]

    async def of_order(self, workspace_id: str, order_id: str) -> Sequence[Hold]:
        query = (
            select(holds)
            .where(holds.c.workspace_id == workspace_id, holds.c.order_id == order_id)
            .order_by(holds.c.created_at, holds.c.id)
        )
        return [_hold(r) for r in (await self._connection.execute(query)).mappings()]

    async def of_certificate(self, certificate_id: UUID) -> Sequence[Hold]:
        query = select(holds).where(holds.c.certificate_id == certificate_id).order_by(holds.c.created_at, holds.c.id)
        return [_hold(r) for r in (await self._connection.execute(query)).mappings()]
