"""The floor any redemption pays: a bare echo service, and its round trips measured as the
redemption's are. `python -m bench.echo REQUESTS REPLIES GROUP` (the broker from
GIFTCERT_KAFKA_BOOTSTRAP_SERVERS, its fetch wait from GIFTCERT_KAFKA_FETCH_MAX_WAIT_MS) consumes
redeem-sized requests in a consumer group and produces each one's body back, under its key, to the
replies topic: aiokafka alone, with the workers' producer settings (`acks=all`) and their way of
consuming (a batch at a time, its offsets committed once its replies are acknowledged), and no
database, no decoding, no decision. It runs until SIGTERM.

A redemption is this and more: the same two hops through the broker, plus decoding, a transaction
in PostgreSQL and the relay; so the echo's round trips a second bound the redemption's from above
on the same machine, broker and partitions."""

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.load import Replies, Sender, redeem_request
from bench.redemption import Latency, Throughput, steady_timed
from bench.stack import Scenario

READY = "echo: started"
READY_PATTERN = re.compile(re.escape(READY))
BATCH = 500
"""Records taken at once, as the ledger's GIFTCERT_CONSUMER_BATCH_SIZE."""
WARM_UP = 500


async def echo(
    bootstrap_servers: str, requests: str, replies: str, group: str, stopped: asyncio.Event, *,
    fetch_max_wait_ms: int = 500, started: asyncio.Event | None = None,
) -> int:
    """Replies to every request read until `stopped` is set; returns how many it answered."""
    consumer = AIOKafkaConsumer(
        requests, bootstrap_servers=bootstrap_servers, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, fetch_max_wait_ms=fetch_max_wait_ms,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=1)
    await producer.start()
    await consumer.start()
    answered = 0
    if started is not None:
        started.set()
    try:
        while not stopped.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=BATCH)
            sends = [
                await producer.send(replies, record.value, key=record.key)
                for records in batches.values()
                for record in records
            ]
            if sends:
                await asyncio.gather(*sends)
                await consumer.commit()
                answered += len(sends)
    finally:
        await consumer.stop()
        await producer.stop()
    return answered


def topics(scenario: Scenario) -> tuple[str, str]:
    """The echo's request and reply topics, under the scenario's prefix."""
    prefix = scenario.settings.topic_prefix
    return f"{prefix}echo.request", f"{prefix}echo.reply"


async def create_topics(scenario: Scenario) -> tuple[str, str]:
    settings = scenario.settings
    names = topics(scenario)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([
            NewTopic(name, settings.topic_partitions, settings.topic_replication_factor) for name in names
        ])
    finally:
        await admin.close()
    return names


async def _started(scenario: Scenario, processes: int) -> tuple[Replies, Sender]:
    request_topic, reply_topic = await create_topics(scenario)
    group = f"{scenario.settings.consumer_group_prefix}echo"
    scenario.start_commands([
        ("echo", [sys.executable, "-m", "bench.echo", request_topic, reply_topic, group], READY_PATTERN)
        for _ in range(processes)
    ])
    wait = scenario.fetch_waits.latency_readers
    replies = Replies(scenario.settings, (reply_topic,), fetch_max_wait_ms=wait)
    await replies.start()
    sender = Sender(scenario.settings.kafka_bootstrap_servers, request_topic)
    await sender.start()
    warm = [redeem_request("bench-echo", "ABCDEFGHJKMN") for _ in range(WARM_UP)]
    await sender.send_all(warm)
    await replies.wait_for([r for r, _ in warm], timeout=120)
    sender.sent_at.clear()
    replies.outcomes.clear()
    return replies, sender


async def round_trips(scenario: Scenario, count: int, processes: int) -> Throughput:
    """`count` requests sent as fast as possible to `processes` echo processes: round trips per
    second from the first send to the last reply read, as the redemption throughput counts them."""
    replies, sender = await _started(scenario, processes)
    try:
        requests = [redeem_request("bench-echo", "ABCDEFGHJKMN") for _ in range(count)]
        started = time.perf_counter()
        await sender.send_all(requests)
        await replies.wait_for([r for r, _ in requests], timeout=600)
        finished = max(replies.arrived[r] for r, _ in requests)
    finally:
        await sender.stop()
        await replies.stop()
        scenario.stop()
    each_second = [0] * (int(finished - started) + 1)
    for request_id, _ in requests:
        each_second[int(replies.arrived[request_id] - started)] += 1
    return Throughput(count / (finished - started), dict(replies.outcomes), each_second)


async def latency(scenario: Scenario, per_second: float, seconds: float) -> Latency:
    """One echo process, requests at a steady `per_second` for `seconds`: each one's round trip."""
    replies, sender = await _started(scenario, 1)
    try:
        requests = [redeem_request("bench-echo", "ABCDEFGHJKMN") for _ in range(int(per_second * seconds))]
        return await steady_timed(replies, sender, requests, per_second)
    finally:
        await sender.stop()
        await replies.stop()
        scenario.stop()


def main(arguments: Sequence[str]) -> None:
    requests, replies, group = arguments
    bootstrap_servers = os.environ["GIFTCERT_KAFKA_BOOTSTRAP_SERVERS"]
    fetch_max_wait_ms = int(os.environ.get("GIFTCERT_KAFKA_FETCH_MAX_WAIT_MS", "500"))

    async def serve() -> None:
        stopped, started = asyncio.Event(), asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        serving = asyncio.create_task(echo(
            bootstrap_servers, requests, replies, group, stopped, fetch_max_wait_ms=fetch_max_wait_ms,
            started=started,
        ))
        await started.wait()
        print(READY, flush=True)  # noqa: T201 - the benchmark reads it from the log
        answered = await serving
        print(f"echo: answered {answered}", flush=True)  # noqa: T201

    asyncio.run(serve())


if __name__ == "__main__":
    main(sys.argv[1:])
