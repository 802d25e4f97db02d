"""A clock that stands still until a test moves it (giftcert.clock.Clock)."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class FixedClock:
    current: datetime

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("the clock tells timezone-aware times")

    def now(self) -> datetime:
        return self.current

    def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ValueError("the clock only moves forward")
        self.current += by
        return self.current
