"""A batch subscriber over the real broker: one poll is one unit of work. Invalid records are
dead-lettered on their own, a batch that fails for good is split so only the message at fault is
dead-lettered, a transient fault retries the whole batch, and the offsets are committed after."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream import FastStream
from faststream.kafka import KafkaRouter

from giftcert.settings import Settings
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.batch_tracing import Traces
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.runtime.broker import build_broker
from giftcert_services.runtime.subscription import subscribe_batch
from giftcert_services.runtime.topics import ensure_topics

pytestmark = pytest.mark.integration

TOPIC = Topic.BOOKING_REDEEM_REQUEST
SERVICE = "batch-test"


class Handler:
    """Records each call's orders; refuses for good any batch holding `order-bad`, and fails
    transiently on its first `transient_failures` calls."""

    def __init__(self, transient_failures: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.handled: list[str] = []
        self.transient_failures = transient_failures

    async def __call__(self, batch: list[RedeemCertificate], traces: Traces) -> None:
        del traces
        orders = [command.order_id for command in batch]
        self.calls.append(orders)
        if len(self.calls) <= self.transient_failures:
            raise ConnectionRefusedError("the database is away")
        if "order-bad" in orders:
            raise ValueError("this message can never be handled")
        self.handled.extend(orders)


@pytest.fixture
def batch_settings(kafka_bootstrap_servers: str, database_url: str) -> Settings:
    prefix = f"bt{uuid4().hex[:8]}."
    return Settings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap_servers, topic_prefix=prefix,
        consumer_group_prefix=prefix, topic_partitions=2, retry_initial_seconds=0.01, retry_max_seconds=0.05,
        handler_max_attempts=3,
    )


@pytest.fixture
async def wire(batch_settings: Settings) -> AsyncIterator[Wire]:
    await ensure_topics(batch_settings)
    wire = Wire(batch_settings)
    await wire.start()
    yield wire
    await wire.stop()


async def _run_until_committed(settings: Settings, handler: Handler, handled: int) -> None:
    """The subscriber runs, on messages sent before it started, until `handled` messages were
    handled and the group's offsets are at the end of the topic."""
    deps = bootstrap(settings)
    broker = build_broker(settings, access_log=False)
    router = KafkaRouter()
    subscribe_batch(router, deps, SERVICE, TOPIC, title="test", model=RedeemCertificate)(handler)
    broker.include_router(router)
    app = FastStream(broker)
    await app.start()
    try:
        for _ in range(300):
            if len(handler.handled) >= handled and await _committed_to_the_end(settings):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"not done; calls: {handler.calls}")
    finally:
        await app.stop()
        await deps.close()


async def _committed_to_the_end(settings: Settings) -> bool:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=settings.group_id(SERVICE, TOPIC),
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(settings.topic(TOPIC), p) for p in range(settings.topic_partitions)]
        ends = await consumer.end_offsets(partitions)
        committed = [await consumer.committed(tp) for tp in partitions]
        return committed == [ends[tp] for tp in partitions]
    finally:
        await consumer.stop()


def _redeem(workspace: str, order: str) -> dict[str, Any]:
    return messages.redeem(workspace, "ABCDEFGHJKMN", order_id=order)


async def test_a_poll_is_handled_as_one_batch_and_its_invalid_records_are_dead_lettered_alone(
    batch_settings: Settings, wire: Wire, workspace: str
) -> None:
    orders = [f"order-{n}" for n in range(10)]
    poison = [b"{not json", json.dumps({"workspace_id": workspace}).encode()]
    for n, order in enumerate(orders):
        await wire.send(TOPIC, _redeem(workspace, order))
        if n in {3, 7}:
            await wire.send(TOPIC, poison[n == 7], headers=[("x-test", f"poison-{n}".encode())])
    handler = Handler()
    await _run_until_committed(batch_settings, handler, len(orders))
    assert sorted(handler.handled) == sorted(orders)
    assert any(len(call) > 1 for call in handler.calls)
    dead = await wire.wait_for(TOPIC, lambda _: True, count=2, dead_letters=True)
    assert sorted(d.value for d in dead) == sorted(poison)
    assert {d.headers["error_type"] for d in dead} == {b"undecodable_json", b"validation_error"}


async def test_a_batch_that_fails_for_good_is_split_and_only_the_message_at_fault_is_dead_lettered(
    batch_settings: Settings, wire: Wire, workspace: str
) -> None:
    orders = [f"order-{n}" for n in range(6)]
    for order in [*orders[:3], "order-bad", *orders[3:]]:
        await wire.send(TOPIC, _redeem(workspace, order))
    handler = Handler()
    await _run_until_committed(batch_settings, handler, len(orders))
    (dead,) = await wire.wait_for(TOPIC, lambda _: True, dead_letters=True)
    assert json.loads(dead.value)["order_id"] == "order-bad"
    assert dead.headers["error_type"] == b"ValueError"
    assert sorted(handler.handled) == sorted(orders)
    alone = [call for call in handler.calls if call == ["order-bad"]]
    assert len(alone) == batch_settings.handler_max_attempts


async def test_a_transient_fault_retries_the_whole_batch_and_dead_letters_nothing(
    batch_settings: Settings, wire: Wire, workspace: str
) -> None:
    orders = [f"order-{n}" for n in range(8)]
    for order in orders:
        await wire.send(TOPIC, _redeem(workspace, order))
    handler = Handler(transient_failures=batch_settings.handler_max_attempts + 2)
    await _run_until_committed(batch_settings, handler, len(orders))
    assert sorted(handler.handled) == sorted(orders)
    failed = handler.calls[: handler.transient_failures]
    assert all(len(call) > 1 for call in failed[:1])
    assert handler.calls[handler.transient_failures] == failed[0]
    await wire.quiet(1.0)
    assert wire.on(TOPIC, dead_letters=True) == []
