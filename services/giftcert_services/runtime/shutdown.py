"""Stopping the broker client on the way out, whatever state the broker is in.

Two things aiokafka does when the broker has gone away would otherwise spoil a graceful stop:

- A consumer whose last fetch failed is backing off in a sleep that its fetcher's `close()`
  cancels and then awaits, so `stop()` raises that `CancelledError` (aio-libs/aiokafka#647). The
  rest of the shutdown (the relay's flush, the database pool) never ran and the process exited
  with code 1 and a traceback. `stop_consumer` logs it and goes on; a cancellation of the
  stopping task itself still propagates.
- The producer's `stop()` waits until every batch in its buffer is delivered or has expired
  (GIFTCERT_KAFKA_REQUEST_TIMEOUT_MS, 40 s by default), past any graceful deadline. What can be
  left there by then are sends nobody waits for any more: those of a relay batch cut short by the
  deadline, which rolled back (its rows stay in the outbox for the next relay), or a dead letter
  whose message was not committed (it comes again). `stop_broker_by` gives the client until the
  deadline (at least CLOSING_SECONDS, so a healthy broker always gets its goodbyes), then leaves
  the rest to the process exit."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from faststream.kafka import KafkaBroker

log = logging.getLogger("giftcert.shutdown")

CLOSING_SECONDS = 1.0


async def stop_subscribers(broker: KafkaBroker) -> None:
    """Stops every subscriber side by side: each finishes its message in hand (up to FastStream's
    graceful timeout), commits, and leaves its group; one that fails to stop is logged."""
    await asyncio.gather(*(
        stop_consumer(subscriber.stop, f"the consumer of {', '.join(map(str, getattr(subscriber, 'topics', ())))}")
        for subscriber in broker.subscribers
    ))


async def stop_consumer(stop: Callable[[], Awaitable[None]], what: str) -> None:
    """Awaits `stop()`; a `CancelledError` that the stopping task was not asked for (aiokafka's) and
    any other failure are logged as `what` failing to stop, and the caller goes on."""
    try:
        await stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        log.warning("%s stopped with its broker connection lost; its last offsets may not be committed, "
                    "so whoever reads those partitions next handles their messages again", what)
    except Exception as error:  # noqa: BLE001 - the rest of the shutdown must still run
        log.warning("%s failed to stop cleanly: %r", what, error)


async def stop_broker_by(broker: KafkaBroker, deadline: float) -> None:
    """`broker.stop()` until the event loop's clock reads `deadline` (or for CLOSING_SECONDS,
    whichever is later); a client still waiting on the broker then is left to the process exit.
    FastStream's own `stop()` afterwards finds nothing left to wait for."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout_at(max(deadline, loop.time() + CLOSING_SECONDS)):
            await broker.stop()
    except TimeoutError:
        log.warning("the broker did not answer before the graceful deadline; unsent events stay in the "
                    "outbox for the next relay")
    except Exception as error:  # noqa: BLE001 - the database pool must still close
        log.warning("stopping the broker client failed: %r", error)
