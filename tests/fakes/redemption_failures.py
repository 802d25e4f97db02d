"""Unknown-code attempts per workspace and order, in memory (giftcert.store.redemption_failures).
The advisory lock of the real one is a no-op here."""

from datetime import datetime

from tests.fakes.state import FailureRow, Transaction, as_stored


class FakeRedemptionFailureRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def count_since(self, workspace_id: str, order_id: str, since: datetime) -> int:
        return sum(
            1
            for f in self._tx.state.redemption_failures
            if f.workspace_id == workspace_id and f.order_id == order_id and f.failed_at > since
        )

    async def count_in_workspace_since(self, workspace_id: str, since: datetime) -> int:
        return sum(
            1 for f in self._tx.state.redemption_failures if f.workspace_id == workspace_id and f.failed_at > since
        )

    async def record(self, workspace_id: str, order_id: str, at: datetime, *, forget_before: datetime) -> None:
        """Adds a failure and drops the workspace's failures too old to count any more."""
        state = self._tx.state
        state.redemption_failures = [
            f for f in state.redemption_failures
            if not (f.workspace_id == workspace_id and f.failed_at <= forget_before)
        ]
        state.redemption_failures.append(as_stored(FailureRow(workspace_id, order_id, at)))
