"""The service as an integrator sees it: send inbound messages, watch outbound topics."""

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.decoding import json_or_bytes
from giftcert_services.runtime.kafka_security import aiokafka_options
from giftcert_services.runtime.shutdown import stop_consumer
from giftcert_services.runtime.topics import topic_names


@dataclass
class Received:
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]
    timestamp_ms: int = 0

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.value)
        return body


class Wire:
    """A producer for inbound topics and a group-less reader of every topic and dead-letter topic
    of the plan (giftcert_services.runtime.topics).
    `listener`, when given, sees each record as it arrives (the demo prints them)."""

    def __init__(self, settings: Settings, listener: Callable[[Received], None] | None = None) -> None:
        self.settings = settings
        self._listener = listener
        self.received: dict[str, list[Received]] = defaultdict(list)
        self._arrived = asyncio.Condition()
        connection = aiokafka_options(settings)
        # acks as the services' producers: a platform's request must survive its leader's kill -9
        # (tests/e2e/test_broker_faults.py); aiokafka's default, 1, loses what followers lacked
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", **connection
        )
        # the planned topics only: Apache Kafka (topics not created on demand) knows no others, and
        # a consumer subscribed to a missing topic fails its start
        watched = topic_names(settings)
        self._consumer = AIOKafkaConsumer(
            *watched,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            metadata_max_age_ms=1000,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            **connection,
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._producer.start()
        await self._consumer.start()
        self._task = asyncio.create_task(self._collect())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await stop_consumer(self._consumer.stop, "the wire's reader")
        await self._producer.stop()

    async def _collect(self) -> None:
        async for record in self._consumer:
            received = Received(
                record.topic, record.key, record.value or b"", dict(record.headers), record.timestamp
            )
            if self._listener is not None:
                self._listener(received)
            async with self._arrived:
                self.received[record.topic].append(received)
                self._arrived.notify_all()

    async def send(
        self, topic: Topic, body: dict[str, Any] | bytes, *, key: str | None = None,
        headers: list[tuple[str, bytes]] | None = None, partition: int | None = None,
    ) -> None:
        """`partition`: that one rather than the key's."""
        value = body if isinstance(body, bytes) else json.dumps(body).encode()
        await self._producer.send_and_wait(
            self.settings.topic(topic), value, key=key.encode() if key else None, headers=headers,
            partition=partition,
        )

    async def partitions(self, topic: Topic) -> set[int]:
        partitions: set[int] = await self._producer.partitions_for(self.settings.topic(topic))
        return partitions

    def on(self, topic: Topic, *, dead_letters: bool = False) -> list[Received]:
        name = self.settings.dead_letter_topic(topic) if dead_letters else self.settings.topic(topic)
        return self.received[name]

    async def wait_for(
        self, topic: Topic, match: Callable[[dict[str, Any]], bool], *, count: int = 1,
        timeout: float = 30.0, dead_letters: bool = False,
    ) -> list[Received]:
        """The first `count` records on `topic` whose body satisfies `match`; a body that is not a
        JSON object (a dead letter may hold any bytes) is matched as `{}`."""

        def found() -> list[Received]:
            hits = []
            for record in self.on(topic, dead_letters=dead_letters):
                body = json_or_bytes(record.value)
                if match(body if isinstance(body, dict) else {}):
                    hits.append(record)
            return hits

        async def arrived() -> list[Received]:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(found()) >= count)
            return found()[:count]

        try:
            return await asyncio.wait_for(arrived(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"{count} matching record(s) on {topic} not seen in {timeout}s; saw {len(found())}"
            ) from None

    async def quiet(self, seconds: float = 2.0) -> None:
        """Let anything still in flight arrive, for tests that check nothing more was published."""
        await asyncio.sleep(seconds)
