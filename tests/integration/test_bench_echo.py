"""The benchmark's floor and limits on the real broker (bench/echo.py, bench/limits.py): the bare echo
service answers every request once, with its body and key, and commits what it answered; its
processes, started as the benchmark starts them, answer a burst and a steady load; the broker's
limits come out as numbers. Speed is never asserted: only that each figure is measured."""

import asyncio
import math
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench import echo, limits
from bench.load import redeem_request
from bench.stack import FETCH_WAITS, Scenario
from giftcert.settings import Settings

pytestmark = pytest.mark.integration


def _scenario(kafka_bootstrap_servers: str, folder: Path, partitions: int) -> Scenario:
    prefix = f"echo{uuid4().hex[:8]}."
    settings = Settings(
        database_url="postgresql+asyncpg://unused/unused",  # the echo has no database
        kafka_bootstrap_servers=kafka_bootstrap_servers, topic_prefix=prefix, consumer_group_prefix=prefix,
        topic_partitions=partitions,
    )
    return Scenario(settings, folder, FETCH_WAITS["kafka"])


async def _read_all(servers: str, topic: str, partitions: int, count: int) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        read: list[tuple[bytes, bytes]] = []
        async with asyncio.timeout(60):
            while len(read) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    read.extend((r.key or b"", r.value or b"") for r in records)
        read.extend(
            (r.key or b"", r.value or b"")
            for records in (await consumer.getmany(timeout_ms=1000)).values() for r in records
        )
        return read
    finally:
        await consumer.stop()


async def test_the_echo_answers_each_request_once_with_its_body_and_key_and_commits_them(
    kafka_bootstrap_servers: str, tmp_path: Path,
) -> None:
    scenario = _scenario(kafka_bootstrap_servers, tmp_path, partitions=2)
    request_topic, reply_topic = await echo.create_topics(scenario)
    group = f"{scenario.settings.consumer_group_prefix}echo"
    requests = [redeem_request("bench-echo", f"CODE{n:08d}") for n in range(300)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        await asyncio.gather(*[
            await producer.send(request_topic, body, key=request_id.encode()) for request_id, body in requests
        ])
    finally:
        await producer.stop()
    stopped, started = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(
        echo.echo(kafka_bootstrap_servers, request_topic, reply_topic, group, stopped, started=started)
    )

    replies = await _read_all(kafka_bootstrap_servers, reply_topic, 2, len(requests))
    stopped.set()
    answered = await serving

    assert answered == len(requests)
    assert sorted(replies) == sorted((request_id.encode(), body) for request_id, body in requests)
    committed = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap_servers, group_id=group)
    await committed.start()
    try:
        offsets = [await committed.committed(TopicPartition(request_topic, p)) for p in range(2)]
    finally:
        await committed.stop()
    assert sum(offset or 0 for offset in offsets) == len(requests)


async def test_the_echo_processes_answer_a_burst_and_a_steady_load_as_the_benchmark_runs_them(
    kafka_bootstrap_servers: str, tmp_path: Path,
) -> None:
    burst = await echo.round_trips(_scenario(kafka_bootstrap_servers, tmp_path / "burst", 4), 400, processes=2)
    steady = await echo.latency(_scenario(kafka_bootstrap_servers, tmp_path / "steady", 3), 100.0, 2.0)

    assert burst.outcomes == {"reply": 400}
    assert sum(burst.each_second) == 400
    assert burst.completions_per_second > 0
    assert steady.requests == 200
    assert steady.outcomes == {"reply": 200}
    assert 0 < steady.p50_ms <= steady.p99_ms <= steady.max_ms


async def test_the_brokers_limits_are_measured_on_it(kafka_bootstrap_servers: str) -> None:
    messages = await limits.broker_messages_per_second(kafka_bootstrap_servers, count=500)
    hop = await limits.broker_hop_ms(kafka_bootstrap_servers, 100.0, 2.0, 500, window=1.0)
    empty, stored = await limits.broker_hop_by_history_ms(kafka_bootstrap_servers, 200, 500, probes=5)

    assert messages > 0
    assert 0 < hop.p50_ms <= hop.p99_ms
    assert not math.isnan(hop.first_p99_ms)
    assert not math.isnan(hop.last_p99_ms)
    assert empty > 0
    assert stored > 0
