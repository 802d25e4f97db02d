"""Stopping the broker client: a consumer's stray CancelledError (aiokafka's, with the broker gone)
is logged and the shutdown goes on; a cancellation of the shutdown itself is never swallowed; the
broker client gets until the deadline, then the process exit takes over."""

import asyncio
import logging
from typing import Any, cast

import pytest
from faststream.kafka import KafkaBroker

from giftcert_services.runtime import shutdown
from giftcert_services.runtime.shutdown import stop_broker_by, stop_consumer, stop_subscribers


async def _stop_raising_a_stray_cancellation() -> None:
    """What aiokafka's consumer `stop()` does when its fetcher was backing off from a lost broker:
    it cancels a task of its own, awaits it, and lets the CancelledError out."""
    async def backing_off() -> None:
        await asyncio.sleep(10)

    fetch = asyncio.ensure_future(backing_off())
    await asyncio.sleep(0)
    fetch.cancel()
    await fetch


async def test_a_consumer_whose_stop_lets_out_a_cancellation_it_made_itself_is_logged_and_the_shutdown_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="giftcert.shutdown"):
        await stop_consumer(_stop_raising_a_stray_cancellation, "the consumer of t")
    assert "the consumer of t stopped with its broker connection lost" in caplog.text
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_consumer_whose_stop_fails_is_logged_and_the_shutdown_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    async def failing() -> None:
        raise ConnectionError("broker gone")

    with caplog.at_level(logging.WARNING, logger="giftcert.shutdown"):
        await stop_consumer(failing, "the consumer of t")
    assert "the consumer of t failed to stop cleanly: ConnectionError('broker gone')" in caplog.text


async def test_a_shutdown_that_is_itself_cancelled_stays_cancelled() -> None:
    started = asyncio.Event()

    async def slow_stop() -> None:
        started.set()
        await asyncio.sleep(10)

    stopping = asyncio.create_task(stop_consumer(slow_stop, "the consumer of t"))
    await started.wait()
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping


class _Subscriber:
    def __init__(self, topic: str, stop: Any) -> None:
        self.topics = [topic]
        self.stop = stop


class _Broker:
    def __init__(self, stop: Any = None, subscribers: list[_Subscriber] | None = None) -> None:
        self.subscribers = subscribers or []
        self._stop = stop

    async def stop(self) -> None:
        await self._stop()


async def test_every_subscriber_is_stopped_even_when_one_of_them_fails_to(caplog: pytest.LogCaptureFixture) -> None:
    stopped: list[str] = []

    async def clean() -> None:
        stopped.append("clean")

    broker = _Broker(subscribers=[_Subscriber("a", _stop_raising_a_stray_cancellation), _Subscriber("b", clean)])
    with caplog.at_level(logging.WARNING, logger="giftcert.shutdown"):
        await stop_subscribers(cast("KafkaBroker", broker))
    assert stopped == ["clean"]
    assert "the consumer of a stopped with its broker connection lost" in caplog.text


async def test_a_broker_client_still_waiting_on_the_broker_at_the_deadline_is_left_to_the_exit(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutdown, "CLOSING_SECONDS", 0.01)
    never = asyncio.Event()
    loop = asyncio.get_running_loop()
    with caplog.at_level(logging.WARNING, logger="giftcert.shutdown"):
        await asyncio.wait_for(stop_broker_by(cast("KafkaBroker", _Broker(never.wait)), loop.time() + 0.05), 5)
    assert "the broker did not answer before the graceful deadline" in caplog.text


async def test_a_broker_client_gets_its_closing_time_even_when_the_deadline_has_passed() -> None:
    closed: list[bool] = []

    async def closing() -> None:
        await asyncio.sleep(0.02)
        closed.append(True)

    loop = asyncio.get_running_loop()
    await stop_broker_by(cast("KafkaBroker", _Broker(closing)), loop.time() - 5)
    assert closed == [True]


async def test_a_broker_client_that_fails_to_stop_is_logged_and_the_shutdown_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing() -> None:
        raise ExceptionGroup("Failed to stop subscribers", [ConnectionError("broker gone")])

    loop = asyncio.get_running_loop()
    with caplog.at_level(logging.WARNING, logger="giftcert.shutdown"):
        await stop_broker_by(cast("KafkaBroker", _Broker(failing)), loop.time() + 1)
    assert "stopping the broker client failed" in caplog.text
