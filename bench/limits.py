"""What this machine allows, measured first in every run: the figures the pipeline is judged by.

1. PostgreSQL: single-row `UPDATE ...; COMMIT` in a tight asyncpg loop, on 1 and on 16 connections.
2. The broker: aiokafka producing and consuming messages the size of a redeem request, as fast as it
   can; one hop's latency (send to read by a consumer group) at the latency figure's steady rate, its
   p50 and p99; and one hop's median on an empty partition and on one holding what that figure sends.
3. A bare echo service (bench/echo.py): a redemption's two hops and nothing else, its round trips a
   second and its p50 and p99 at the steady rate.
4. The certificate PDF as the libraries draw it (reportlab's canvas, segno), on one core, its fonts
   registered and warm: what one documents process can give activation at most."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.load import Sender, percentile, redeem_request

COMMIT_SECONDS = 5.0
BROKER_MESSAGES = 50_000
HOP_PROBES = 200
PDF_SECONDS = 5.0


async def commits_per_second(dsn: str, connections: int, seconds: float = COMMIT_SECONDS) -> float:
    """Each connection updates a row of its own and commits, as fast as it can, for `seconds`."""
    setup = await asyncpg.connect(dsn)
    table = f"bench_commits_{uuid4().hex[:8]}"
    await setup.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, n bigint NOT NULL)")
    await setup.execute(f"INSERT INTO {table} SELECT g, 0 FROM generate_series(1, {connections}) g")  # noqa: S608
    pool = [await asyncpg.connect(dsn) for _ in range(connections)]
    statement = f"UPDATE {table} SET n = n + 1 WHERE id = $1"  # noqa: S608 - our own table name
    deadline = time.perf_counter() + seconds
    counts = [0] * connections

    async def loop(index: int, connection: asyncpg.Connection) -> None:
        while time.perf_counter() < deadline:
            await connection.execute(statement, index + 1)  # autocommit: one transaction each
            counts[index] += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(i, c) for i, c in enumerate(pool)))
    elapsed = time.perf_counter() - started
    for connection in pool:
        await connection.close()
    await setup.execute(f"DROP TABLE {table}")
    await setup.close()
    return sum(counts) / elapsed


async def broker_messages_per_second(bootstrap_servers: str, count: int = BROKER_MESSAGES) -> float:
    """Produce `count` redeem-sized messages and consume them all, from the first send to the last read."""
    topic = await _new_topic(bootstrap_servers)
    body = redeem_request("bench", "ABCDEFGHJKMN")[1]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=1)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=f"g-{topic}", auto_offset_reset="earliest",
        enable_auto_commit=False, fetch_max_wait_ms=20,
    )
    await producer.start()
    await consumer.start()
    started = time.perf_counter()

    async def consume() -> None:
        seen = 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            seen += sum(len(records) for records in batches.values())

    reading = asyncio.create_task(consume())
    pending = [await producer.send(topic, body, key=str(n).encode()) for n in range(count)]
    await asyncio.gather(*pending)
    await reading
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await producer.stop()
    return count / elapsed


async def _new_topic(bootstrap_servers: str, partitions: int = 3) -> str:
    topic = f"bench-limit-{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(topic, partitions, 1)])
    await admin.close()
    return topic


@dataclass(frozen=True)
class Hop:
    p50_ms: float
    p99_ms: float
    first_p99_ms: float
    """Of the messages sent in the first window's seconds."""
    last_p99_ms: float
    """Of those sent in the last window's: on Tansu a hop slows as the topic's history grows."""


async def broker_hop_ms(
    bootstrap_servers: str, per_second: float, seconds: float, fetch_max_wait_ms: int, window: float = 10.0
) -> Hop:
    """One hop, send to read by a consumer group (with the workers' fetch wait), at a steady rate
    for `seconds`."""
    topic = await _new_topic(bootstrap_servers)
    body = redeem_request("bench", "ABCDEFGHJKMN")[1]
    sender = Sender(bootstrap_servers, topic)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=f"g-{topic}", auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    await sender.start()
    await consumer.start()
    count = int(per_second * seconds)
    read_at: dict[str, float] = {}

    async def consume() -> None:
        while len(read_at) < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    read_at[(record.key or b"").decode()] = now

    reading = asyncio.create_task(consume())
    started = time.perf_counter()
    await sender.send_at([(str(n), body) for n in range(count)], per_second)
    await reading
    await consumer.stop()
    await sender.stop()
    hops = [(sent - started, (read_at[key] - sent) * 1000) for key, sent in sender.sent_at.items()]
    every = [hop for _, hop in hops]
    first = [hop for at, hop in hops if at < window]
    last = [hop for at, hop in hops if at >= seconds - window]
    return Hop(percentile(every, 0.5), percentile(every, 0.99), percentile(first, 0.99), percentile(last, 0.99))


async def broker_hop_by_history_ms(
    bootstrap_servers: str, stored: int, fetch_max_wait_ms: int, probes: int = HOP_PROBES
) -> tuple[float, float]:
    """One hop's median (send, then read by a consumer waiting on the partition) on a partition
    with nothing stored, then with `stored` more batches of one record each (as a booking platform
    sending one request at a time writes them). Tansu's memory storage keeps one object per batch
    and lists them all on every fetch that finds data: a fetch costs it more the longer the
    partition's history, which Kafka's indexed log does not."""
    topic = await _new_topic(bootstrap_servers, partitions=1)
    partition = TopicPartition(topic, 0)
    body = redeem_request("bench", "ABCDEFGHJKMN")[1]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", max_batch_size=len(body) + 200)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=fetch_max_wait_ms
    )
    await producer.start()
    await consumer.start()
    consumer.assign([partition])

    async def median_hop() -> float:
        await consumer.seek_to_end(partition)
        hops = []
        for _ in range(probes):
            started = time.perf_counter()
            await producer.send_and_wait(topic, body, partition=0)
            while not await consumer.getmany(partition, timeout_ms=1000):
                pass
            hops.append((time.perf_counter() - started) * 1000)
        return percentile(hops, 0.5)

    try:
        empty = await median_hop()
        await asyncio.gather(*[await producer.send(topic, body, partition=0) for _ in range(stored)])
        return empty, await median_hop()
    finally:
        await consumer.stop()
        await producer.stop()


def pages_per_second(render: Callable[[], object], seconds: float = PDF_SECONDS) -> float:
    """How many times `render()` runs per second, on one core, after a first run (fonts registered,
    caches warm)."""
    render()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        render()
        count += 1
    return count / (time.perf_counter() - started)
