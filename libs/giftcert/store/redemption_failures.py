"""Failed redemption attempts (unknown codes) per workspace and order, for the guessing limits.

Counting takes a transaction-scoped advisory lock on the (workspace, order) pair, so concurrent
attempts for one order are counted one after another and cannot all slip under the limit."""

from datetime import datetime

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.store.schema import redemption_failures


class RedemptionFailureRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def count_since(self, workspace_id: str, order_id: str, since: datetime) -> int:
        await self._connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:workspace || chr(31) || :order_id, 7))"),
            {"workspace": workspace_id, "order_id": order_id},
        )
        query = select(func.count()).where(
            redemption_failures.c.workspace_id == workspace_id,
            redemption_failures.c.order_id == order_id,
            redemption_failures.c.failed_at > since,
        )
        return int((await self._connection.execute(query)).scalar_one())

    async def count_in_workspace_since(self, workspace_id: str, since: datetime) -> int:
        """All orders' failures: what a guesser opening a new order per guess adds up to."""
        query = select(func.count()).where(
            redemption_failures.c.workspace_id == workspace_id, redemption_failures.c.failed_at > since
        )
        return int((await self._connection.execute(query)).scalar_one())

    async def record(self, workspace_id: str, order_id: str, at: datetime, *, forget_before: datetime) -> None:
        """Adds a failure and drops the workspace's failures too old to count any more, so the table
        holds one window's worth of failures per workspace at most."""
        await self._connection.execute(
            delete(redemption_failures).where(
                redemption_failures.c.workspace_id == workspace_id,
                redemption_failures.c.failed_at <= forget_before,
            )
        )
        await self._connection.execute(
            insert(redemption_failures).values(workspace_id=workspace_id, order_id=order_id, failed_at=at)
        )
