"""Failed redemption attempts (unknown codes) per workspace and order, for the guessing limit.

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

    async def record(self, workspace_id: str, order_id: str, at: datetime, *, forget_before: datetime) -> None:
        """Adds a failure and drops this order's failures that are too old to count any more."""
        await self._connection.execute(
            delete(redemption_failures).where(
                redemption_failures.c.workspace_id == workspace_id,
                redemption_failures.c.order_id == order_id,
                redemption_failures.c.failed_at <= forget_before,
            )
        )
        await self._connection.execute(
            insert(redemption_failures).values(workspace_id=workspace_id, order_id=order_id, failed_at=at)
        )
