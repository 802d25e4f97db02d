"""Background work spread out in time, so it leaves room for the work a customer waits on.

An expiry tick can expire a hundred thousand certificates; done as fast as the store allows, it
takes every core the machine has (the ledger, PostgreSQL, the relay and the broker all busy with
its events) and the redemptions at checkout queue behind it. Paced, it takes longer and leaves the
rest of the machine to them: the same idea as PostgreSQL's cost-based vacuum delay. Whether that
helps depends on the broker and the store (decision 15 has the measurements).

`Pacing(per_second).start()` begins one run; `await pacer.took(n)` after each n items returns once
the run is no longer ahead of `per_second`. The time functions are injected, so tests need not wait."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pacing:
    """At most `per_second` items a second on average over a run; `None`: as fast as they go."""

    per_second: float | None = None
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def __post_init__(self) -> None:
        if self.per_second is not None and self.per_second <= 0:
            raise ValueError(f"a pace is a positive number of items a second, not {self.per_second}")

    def start(self) -> "Pacer":
        return Pacer(self, self.monotonic())


class Pacer:
    def __init__(self, pacing: Pacing, began: float) -> None:
        self._pacing = pacing
        self._began = began
        self._done = 0

    async def took(self, count: int) -> None:
        """`count` more items are done: waits until the run is back at its pace."""
        self._done += count
        if self._pacing.per_second is None:
            return
        ahead = self._began + self._done / self._pacing.per_second - self._pacing.monotonic()
        if ahead > 0:
            await self._pacing.sleep(ahead)
