"""The outbox relay: the only code that publishes events.

It claims the oldest outbox rows whose keys no other replica holds, locking those keys until its
commit (OutboxReader.claim, decision 0025: replicas share the work, and a certificate's events still
go out in `sequence` order), publishes them keyed by certificate id, waits for the broker's
acknowledgements, then deletes the rows and commits. It does so in two lanes side by side (`Lane`):
the replies a customer waits for at checkout, and every other event, so that a bulk of events never
holds up a checkout. Killed before the commit, it publishes the same rows again after a restart: an
event may arrive twice, always with the same `event_id`, and never without its committed change.

Each row is published within the trace context stored with it (`continuing`,
giftcert.messaging.trace_context). It publishes as soon as a transaction that wrote outbox rows
commits (wake_up.py), else at its next poll.

Stopping (SIGTERM) it stops polling, lets the batch in hand finish, then publishes what is committed,
batch after batch until one comes back short, until the graceful deadline. A batch cut short by the
deadline rolls back: its rows, published or not, stay for the next relay.

Between batches it counts the outbox for `giftcert_outbox_backlog` and the age of its oldest row, with
one cheap query at most every BACKLOG_REFRESH_SECONDS, so a stuck relay (or broker) shows on a dashboard
before the platform notices missing events."""

import asyncio
import contextlib
import logging
import time
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher

from giftcert.messaging.outbox import Lane
from giftcert.messaging.trace_context import continuing
from giftcert.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE
from giftcert.store.outbox import OutboxReader
from giftcert_contracts.outbound import EVENT_TYPES
from giftcert_contracts.topics import Topic
from giftcert_services.relay.wake_up import OutboxWakeUp
from giftcert_services.runtime.backoff import backoff_seconds
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.failpoints import failpoint
from giftcert_services.runtime.faults import is_transient

log = logging.getLogger("giftcert.relay")

BACKLOG_REFRESH_SECONDS = 5.0


def event_publishers(broker: KafkaBroker, deps: Dependencies) -> dict[Topic, DefaultPublisher]:
    return {
        event.topic: broker.publisher(
            deps.settings.topic(event.topic),
            title=event.topic.value,
            schema=event,
            description=(event.__doc__ or "").strip() or None,
        )
        for event in EVENT_TYPES
    }


class OutboxRelay:
    def __init__(self, deps: Dependencies, publishers: dict[Topic, DefaultPublisher]) -> None:
        self._deps = deps
        self._publishers = publishers
        self._stopping = asyncio.Event()
        self._backlog_counted_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        settings = deps.settings
        self._wake_up = OutboxWakeUp(
            deps.engine, retry_initial=settings.retry_initial_seconds, retry_max=settings.retry_max_seconds
        )

    async def relay_batch(self, lane: Lane) -> int:
        """Publishes up to one batch of `lane`'s rows; returns how many events went out."""
        async with self._deps.engine.connect() as connection, connection.begin():
            reader = OutboxReader(connection)
            rows = await reader.claim(self._deps.settings.relay_batch_size, lane)
            if not rows:
                return 0
            failpoint("relay_before_publish")
            pending: list[Any] = []
            for row in rows:
                with continuing(row.headers):  # the event's spans are children of the handler that wrote it
                    pending.append(await self._publishers[row.topic].publish(
                        row.payload, key=row.key.encode(), headers=row.headers, no_confirm=True
                    ))
            await asyncio.gather(*pending)
            await reader.delete([row.id for row in rows])
        return len(rows)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def run(self) -> None:
        """Polls the outbox until stopped, woken early by each commit that wrote to it."""
        listening = asyncio.create_task(self._wake_up.listen(), name="outbox-wake-up")
        try:
            await self._in_every_lane(draining=False)
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening

    async def _in_every_lane(self, *, draining: bool) -> int:
        lanes = (self._relay(lane, draining=draining) for lane in Lane)
        return sum(await asyncio.gather(*lanes))

    async def _relay(self, lane: Lane, *, draining: bool) -> int:
        """`lane`'s batch after batch, with backoff after a failure; returns how many events went out.
        Polling: until stopped, pausing after a short batch. Draining: until a batch comes back short
        (nothing is left that this relay may claim)."""
        settings = self._deps.settings
        failures = 0
        total = 0
        while draining or not self._stopping.is_set():
            try:
                published = await self.relay_batch(lane)
            except Exception as error:
                if not is_transient(error):
                    log.exception("outbox relay failed; retrying")
                failures += 1
                pause = backoff_seconds(
                    failures, initial=settings.retry_initial_seconds, maximum=settings.retry_max_seconds
                )
                log.warning("outbox relay (%s): %r, retrying in %.1fs", lane.value, error, pause)
                await (asyncio.sleep(pause) if draining else self._pause(pause))
                continue
            failures = 0
            total += published
            short = published < settings.relay_batch_size
            if draining:
                if short:
                    return total
                continue
            await self._refresh_backlog_gauges()
            if short:
                await self._wake_up.wait(settings.relay_poll_seconds, lane)
        return total

    async def refresh_backlog_gauges(self) -> None:
        """One count of the outbox (OutboxReader.backlog) into the backlog gauges."""
        async with self._deps.engine.connect() as connection:
            count, oldest = await OutboxReader(connection).backlog()
        OUTBOX_BACKLOG.set(count)
        age = 0.0 if oldest is None else (self._deps.clock.now() - oldest).total_seconds()
        OUTBOX_OLDEST_AGE.set(max(age, 0.0))

    async def _refresh_backlog_gauges(self) -> None:
        """At most every BACKLOG_REFRESH_SECONDS; a failure only leaves the gauges as they were."""
        now = time.monotonic()
        if self._backlog_counted_at is not None and now - self._backlog_counted_at < BACKLOG_REFRESH_SECONDS:
            return
        self._backlog_counted_at = now
        try:
            await self.refresh_backlog_gauges()
        except Exception as error:  # noqa: BLE001 - the relay's work comes first
            log.warning("counting the outbox failed: %r", error)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def drain_and_stop(self, deadline: float) -> None:
        """Stops polling; the batch in hand finishes, then everything committed is published, until
        the event loop's clock reads `deadline`. Does nothing where the relay was never started."""
        self._stopping.set()
        self._wake_up.wake()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            async with asyncio.timeout_at(deadline):
                await task
                flushed = await self._in_every_lane(draining=True)
        except TimeoutError:
            log.warning("outbox relay stopped at the graceful timeout; what is left goes with the next relay")
        else:
            log.info("outbox relay stopped; %s events published while stopping", flushed)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
