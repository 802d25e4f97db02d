"""The code-guessing limit: redemption attempts with an unknown code are counted per workspace and
order; once an order has `failures` of them within `window`, its further attempts are refused with
`too_many_attempts` before any certificate is looked up, so a guesser learns nothing more."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class GuessingLimit:
    failures: int = 5
    window: timedelta = timedelta(minutes=10)

    def window_start(self, now: datetime) -> datetime:
        return now - self.window

    def reached_by(self, recent_failures: int) -> bool:
        return recent_failures >= self.failures
