"""Failed redemption attempts (unknown codes) per workspace and order, for the guessing limits.

Counting takes a transaction-scoped advisory lock on each (workspace, order) pair, in the order of
the lock keys, so concurrent attempts for one order are counted one after another and cannot all
slip under the limit, and two batches never wait for each other in a cycle."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.store.bulk import Writes, columns, insert_rows, rows_of
from giftcert.store.schema import redemption_failures

_LOCK_ORDERS = text(
    "SELECT count(pg_advisory_xact_lock(lock_key)) FROM ("
    " SELECT DISTINCT hashtextextended(pair, 7) AS lock_key FROM unnest(CAST(:pairs AS text[])) AS pair"
    " ORDER BY lock_key) AS keys"
)


_COUNT = text(
    "SELECT workspace_id, order_id, count(*) FROM redemption_failures WHERE failed_at > :since AND "  # noqa: S608
    f"(workspace_id, order_id) IN (SELECT * FROM {rows_of(redemption_failures, ('workspace_id', 'order_id'))}) "
    "GROUP BY workspace_id, order_id "
    "UNION ALL SELECT workspace_id, NULL, count(*) FROM redemption_failures "
    "WHERE failed_at > :since AND workspace_id = ANY(CAST(:workspaces AS text[])) GROUP BY workspace_id"
)


_FORGET = text(
    "DELETE FROM redemption_failures WHERE workspace_id = ANY(CAST(:workspaces AS text[])) AND failed_at <= :before"
)
_COLUMNS = ("workspace_id", "order_id", "failed_at")
_RECORD = insert_rows(redemption_failures, _COLUMNS)


@dataclass(frozen=True, slots=True)
class FailureCounts:
    """Failures within the window, per (workspace, order) and per workspace; absent means none."""

    by_order: dict[tuple[str, str], int]
    by_workspace: dict[str, int]


class RedemptionFailureRepository:
    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._connection = connection
        self._writes = writes or Writes(connection)

    async def lock_and_count(self, orders: Collection[tuple[str, str]], since: datetime) -> FailureCounts:
        """Locks the (workspace, order) pairs and counts their failures and their workspaces'."""
        if not orders:
            return FailureCounts({}, {})
        await self._connection.execute(_LOCK_ORDERS, {"pairs": [f"{w}\x1f{o}" for w, o in orders]})
        pairs = columns(orders, ("workspace_id", "order_id"))
        parameters = pairs | {"since": since, "workspaces": sorted(set(pairs["workspace_id"]))}
        counts = FailureCounts({}, {})
        for workspace, order, count in await self._connection.execute(_COUNT, parameters):
            if order is None:
                counts.by_workspace[workspace] = count
            else:
                counts.by_order[workspace, order] = count
        return counts

    async def record_many(
        self, failures: Sequence[tuple[str, str]], at: datetime, *, forget_before: datetime
    ) -> None:
        """Adds a failure per (workspace, order) and drops those workspaces' failures too old to count
        any more, so the table holds one window's worth of failures per workspace at most."""
        if not failures:
            return
        await self._writes.execute(
            _FORGET, {"workspaces": sorted({w for w, _ in failures}), "before": forget_before}
        )
        await self._writes.execute(_RECORD, columns(((w, o, at) for w, o in failures), _COLUMNS))
