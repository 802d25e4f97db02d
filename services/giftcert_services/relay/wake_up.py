"""The relay's wake-up call: a connection of its own LISTENs on the outbox channel (the trigger of
migration 0005 notifies it when a transaction that wrote outbox rows commits), so the relay
publishes at once instead of at its next poll.

Only a latency aid: notifications sent while the connection is being re-established are lost, so
the relay still polls every GIFTCERT_RELAY_POLL_SECONDS, and every (re)connection counts as a
wake-up in case something was committed meanwhile."""

import asyncio
import contextlib
import logging
from collections.abc import Hashable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.store.schema import OUTBOX_CHANNEL
from giftcert_services.runtime.backoff import backoff_seconds

log = logging.getLogger("giftcert.relay")


class OutboxWakeUp:
    def __init__(self, engine: AsyncEngine, *, retry_initial: float, retry_max: float) -> None:
        self._engine = engine
        self._retry = (retry_initial, retry_max)
        self._woken: dict[Hashable, asyncio.Event] = {}

    def wake(self, *_: Any) -> None:
        """Wakes every waiter; one that is busy now returns from its next `wait` at once."""
        for woken in self._woken.values():
            woken.set()

    async def wait(self, timeout: float, waiter: Hashable = None) -> None:
        """Until woken, or `timeout` seconds; each wake-up is used once by each `waiter`."""
        woken = self._woken.get(waiter)
        if woken is None:
            woken = self._woken[waiter] = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), timeout)
        woken.clear()

    async def listen(self) -> None:
        """Runs until cancelled, reconnecting with backoff whenever the connection is lost."""
        failures = 0
        while True:
            try:
                await self._listen_once()
            except Exception as error:  # noqa: BLE001 - the database may be away: polling goes on
                failures += 1
                pause = backoff_seconds(failures, initial=self._retry[0], maximum=self._retry[1])
                log.warning("outbox wake-up connection failed (%r); polling meanwhile, retrying in %.1fs", error, pause)
                await asyncio.sleep(pause)
            else:
                failures = 0

    async def _listen_once(self) -> None:
        async with self._engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            if raw is None:
                raise RuntimeError("no driver connection to listen on")
            lost = asyncio.Event()
            raw.add_termination_listener(lambda _connection: lost.set())
            await raw.add_listener(OUTBOX_CHANNEL, self.wake)
            try:
                self.wake()
                await lost.wait()
            finally:
                with contextlib.suppress(Exception):
                    await raw.remove_listener(OUTBOX_CHANNEL, self.wake)
