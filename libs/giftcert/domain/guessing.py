"""The code-guessing limit. Redemption attempts with an unknown code are counted per order and per
workspace within a sliding window. Once an order has `failures` of them, its further attempts are
refused with `too_many_attempts` before any certificate is looked up, so a guesser learns nothing
more; once the whole workspace has `workspace_failures` (a guesser opening a new order per guess),
every attempt in the workspace is refused so until the window has moved on.

Refused attempts are not counted: a guesser throttled on one order does not raise the workspace's
count, so honest checkouts on other orders go on. The workspace-wide limit trades availability for
safety: set it high enough that honest typos never reach it (the default allows 100 unknown codes in
10 minutes) and alert on it (metric `giftcert_redemptions_throttled_total{scope="workspace"}`)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ThrottleScope(StrEnum):
    ORDER = "order"
    WORKSPACE = "workspace"


@dataclass(frozen=True, slots=True)
class GuessingLimit:
    failures: int = 5
    window: timedelta = timedelta(minutes=10)
    workspace_failures: int = 100

    def __post_init__(self) -> None:
        if self.failures < 1 or self.workspace_failures < self.failures:
            raise ValueError("an order may fail at least once, and a workspace at least as often as an order")

    def window_start(self, now: datetime) -> datetime:
        return now - self.window

    def throttled(self, order_failures: int, workspace_failures: int) -> ThrottleScope | None:
        """Which limit, if any, refuses the next attempt."""
        if order_failures >= self.failures:
            return ThrottleScope.ORDER
        if workspace_failures >= self.workspace_failures:
            return ThrottleScope.WORKSPACE
        return None
