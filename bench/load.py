"""The booking platform's side of a benchmark: redeem requests sent as fast as possible or at a
steady rate, and their replies (certificate-redeemed or redemption-rejected) collected with the
time each arrived. A request's latency is from just before it was handed to the producer to the
moment its reply was read."""

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from giftcert.settings import Settings
from giftcert_contracts.topics import Topic

SEND_TICK_SECONDS = 0.005


def redeem_request(workspace: str, code: str) -> tuple[str, bytes]:
    """A request id and the body, the size and shape a booking platform sends."""
    request_id = str(uuid4())
    body = {
        "workspace_id": workspace, "request_id": request_id, "order_id": f"order-{request_id[:13]}",
        "code": code, "order_total": {"minor": 250_000, "currency": "EUR"},
        "requested_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return request_id, json.dumps(body).encode()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Replies:
    """Reads topics (by their full names) from their current end, keeping each reply's arrival time:
    the first time the body's `key` was read."""

    settings: Settings
    topics: tuple[str, ...]
    key: str = "request_id"
    fetch_max_wait_ms: int = 500
    """The broker may hold a fetch this long when nothing is new. Kafka answers as soon as data
    arrives; Tansu holds it (bench.stack.FETCH_WAITS), so there a reader of latencies asks for short
    ones, and the wait is part of each latency read."""
    arrived: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, group_id=None, enable_auto_commit=False,
            fetch_max_wait_ms=self.fetch_max_wait_ms, max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        partitions = [
            TopicPartition(topic, partition)
            for topic in self.topics
            for partition in range(self.settings.topic_partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        self._task = asyncio.create_task(self._collect(consumer))

    async def _collect(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=10_000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    body: dict[str, Any] = json.loads(record.value)
                    self.arrived.setdefault(str(body[self.key]), now)
                    outcome = body.get("reason", record.topic.rsplit(".", 1)[-1])
                    self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    async def wait_for(self, ids: Sequence[str], timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while any(i not in self.arrived for i in ids):
            if time.perf_counter() > deadline:
                missing = sum(i not in self.arrived for i in ids)
                raise TimeoutError(f"{missing} of {len(ids)} replies missing after {timeout:.0f}s")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._consumer is not None:
            await self._consumer.stop()


class Sender:
    """Sends keyed messages to one topic (by its full name), keeping each one's send time."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.topic = topic
        self.sent_at: dict[str, float] = {}
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, acks="all", linger_ms=1, max_batch_size=256 * 1024,
        )

    @classmethod
    def to(cls, settings: Settings, topic: Topic) -> "Sender":
        """To one of giftcert's topics, under the run's prefix."""
        return cls(settings.kafka_bootstrap_servers, settings.topic(topic))

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_all(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """As fast as the producer takes them."""
        pending = []
        for key, body in messages:
            self.sent_at[key] = time.perf_counter()
            pending.append(await self._producer.send(self.topic, body, key=key.encode()))
        await asyncio.gather(*pending)

    async def send_at(self, messages: Sequence[tuple[str, bytes]], per_second: float) -> None:
        """Each message at its moment of a steady rate (in ticks of a few milliseconds)."""
        pending = []
        started = time.perf_counter()
        sent = 0
        while sent < len(messages):
            due = min(len(messages), int((time.perf_counter() - started) * per_second) + 1)
            for key, body in messages[sent:due]:
                self.sent_at[key] = time.perf_counter()
                pending.append(await self._producer.send(self.topic, body, key=key.encode()))
            sent = due
            await asyncio.sleep(SEND_TICK_SECONDS)
        await asyncio.gather(*pending)
