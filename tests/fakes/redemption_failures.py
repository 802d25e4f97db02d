"""Unknown-code attempts per workspace and order, in memory (giftcert.store.redemption_failures).
The advisory lock of the real one is a no-op here."""

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

from giftcert.store.redemption_failures import FailureCounts
from tests.fakes.state import FailureRow, Transaction, as_stored


class FakeRedemptionFailureRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def lock_and_count(self, orders: Collection[tuple[str, str]], since: datetime) -> FailureCounts:
        recent = [f for f in self._tx.state.redemption_failures if f.failed_at > since]
        workspaces = {w for w, _ in orders}
        return FailureCounts(
            dict(Counter((f.workspace_id, f.order_id) for f in recent if (f.workspace_id, f.order_id) in orders)),
            dict(Counter(f.workspace_id for f in recent if f.workspace_id in workspaces)),
        )

    async def record_many(
        self, failures: Sequence[tuple[str, str]], at: datetime, *, forget_before: datetime
    ) -> None:
        """Adds a failure per (workspace, order) and drops those workspaces' failures too old to count."""
        if not failures:
            return
        state = self._tx.state
        workspaces = {w for w, _ in failures}
        state.redemption_failures = [
            f for f in state.redemption_failures
            if not (f.workspace_id in workspaces and f.failed_at <= forget_before)
        ]
        state.redemption_failures.extend(as_stored(FailureRow(w, o, at)) for w, o in failures)
