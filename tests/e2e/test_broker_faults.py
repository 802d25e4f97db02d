"""Faults of the broker itself, on a three-node Apache Kafka cluster (giftcert.embedded.kafka: topics
with replication factor 3 and `min.insync.replicas=2`, every producer `acks=all`), while a mixed
stream of COMMANDS commands comes in (tests/e2e/mixed_stream.py), the workers running as processes:

- kill -9 of the node that leads most of the busy partitions, then its restart, until the stream ends;
- a rolling restart: each node in turn stopped (SIGTERM) and started again, the next one only once
  every replica is back in its ISR;
- the leading node frozen (SIGSTOP) for 30 s, then thawed.

Then, once everything asked for has been done, the kill -9 row's invariants (tests/e2e/invariants.py),
and: every request topic answers again on every partition (tests/e2e/answering.py), no worker died,
and no code in any worker's output. The workload is seeded; the seed is printed,
and GIFTCERT_BROKER_FAULTS_SEED replays it."""

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.embedded.kafka import EmbeddedKafka, KafkaNode
from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.integrator.wire import Wire
from tests.e2e.answering import silent_partitions
from tests.e2e.conftest import Launcher
from tests.e2e.invariants import INVARIANTS
from tests.e2e.mixed_stream import plan_mixed_stream, seed_from, tell, verdict
from tests.e2e.workload import WorkloadSender
from tests.integration.test_codes_never_leak import spellings
from tests.reliability import Recorder
from tests.stack import running_cluster

pytestmark = [pytest.mark.e2e, pytest.mark.reliability, pytest.mark.timeout(600)]

WORKERS = ("ledger", "expiry", "documents", "mailer", "relay")
FREEZE_SECONDS = 30.0
DOWN_SECONDS = 10.0
"""How long a killed node stays down: past the controllers' broker session (9 s), so its
partitions' leadership has moved before it comes back."""
FIRST_FAULT_AT = 6.0
"""Seconds into the stream: the workers are busy by then."""
SETTLE_SECONDS = 180.0
COMMANDS = 800
"""Fewer than the kill -9 row's 2,000, over the same ~45 s: three JVMs share the 2 cores with the
workers and PostgreSQL (and, here, with other work), and the ledger handled purchases (one
transaction and one offset commit, written to two copies, each) at ~3 a second. With 2,000 the
backlog outlasted the sender's 150 s wait for certificates, and the kill row failed for that alone
(every other invariant held); 800 leave a row of 2 to 3 minutes."""
PROBE_SECONDS = 60.0
"""How long a probe waits for its refusal, once the stream has settled: seconds on a consumer that
reads; a consumer left idle by the fault waited for aiokafka's periodic metadata refresh (answering.py)."""
MORE_INVARIANTS = ["every request topic answers again on every partition", "no worker died",
                   "no code in any worker's output"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedKafka]:
    with running_cluster(Path(tmp_path_factory.mktemp("cluster"))) as kafka:
        yield kafka


@pytest.fixture
def whole_cluster(cluster: EmbeddedKafka) -> Iterator[EmbeddedKafka]:
    """The cluster with every node running and in sync, before the test and after it (a failed
    test may leave a node frozen or stopped)."""

    def restore() -> None:
        for node in cluster.nodes:
            if node.process is not None:
                os.kill(node.process.pid, signal.SIGCONT)
            cluster.start_node(node)
        cluster.wait_ready()
        cluster.wait_in_sync()

    restore()
    yield cluster
    restore()


@pytest.fixture
def kafka_bootstrap_servers(whole_cluster: EmbeddedKafka) -> str:
    """The e2e fixtures' broker (settings, wire, launch) is the cluster, not the session's node."""
    return whole_cluster.bootstrap_servers


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"topic_replication_factor": 3})


async def _busy_leader(cluster: EmbeddedKafka, settings: Settings) -> KafkaNode:
    """The node leading most partitions of the stream's topics (requests and events)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap_servers, request_timeout_ms=5000)
    await admin.start()
    try:
        described = await admin.describe_topics([settings.topic(topic) for topic in Topic])
    finally:
        await admin.close()
    leaders = [partition["leader"] for topic in described for partition in topic["partitions"]]
    return cluster.leader_of(dict(enumerate(leaders)))


async def _back_in_sync(cluster: EmbeddedKafka) -> None:
    await asyncio.to_thread(cluster.wait_ready)
    await asyncio.to_thread(cluster.wait_in_sync)


def _at(began: float) -> str:
    """The moment in the stream, for the test's output."""
    return f"{asyncio.get_running_loop().time() - began:.0f}s into the stream"


async def _kill_busy_leaders(cluster: EmbeddedKafka, settings: Settings, began: float, until: float) -> int:
    """kill -9 of the busiest leader, DOWN_SECONDS down, its restart, and again until the loop's
    clock reads `until` (the last planned command). Returns how many kills."""
    loop = asyncio.get_running_loop()
    kills = 0
    await asyncio.sleep(FIRST_FAULT_AT)
    while kills == 0 or loop.time() < until:
        victim = await _busy_leader(cluster, settings)
        tell(f"{_at(began)}: kill -9 of node {victim.node_id}")
        await asyncio.to_thread(cluster.kill_node, victim)
        kills += 1
        await asyncio.sleep(DOWN_SECONDS)
        cluster.start_node(victim)  # from the loop's (main) thread: see start_node
        await _back_in_sync(cluster)
        tell(f"{_at(began)}: node {victim.node_id} back, every replica in sync")
    return kills


async def _restart_each_node(cluster: EmbeddedKafka, settings: Settings, began: float, until: float) -> int:
    """Each node in turn, the busiest leader last: a controlled shutdown, a start, and the wait
    until every replica is back in its ISR before the next. Returns how many restarts."""
    del until
    await asyncio.sleep(FIRST_FAULT_AT)
    busiest = await _busy_leader(cluster, settings)
    order = [node for node in cluster.nodes if node is not busiest] + [busiest]
    for node in order:
        tell(f"{_at(began)}: restart of node {node.node_id}")
        await asyncio.to_thread(cluster.stop_node, node)
        cluster.start_node(node)
        await _back_in_sync(cluster)
    tell(f"{_at(began)}: every node restarted, every replica in sync")
    return len(order)


async def _freeze_busy_leader(cluster: EmbeddedKafka, settings: Settings, began: float, until: float) -> int:
    """SIGSTOP of the busiest leader for FREEZE_SECONDS, then SIGCONT. Returns 1."""
    del until
    await asyncio.sleep(FIRST_FAULT_AT)
    victim = await _busy_leader(cluster, settings)
    assert victim.process is not None
    tell(f"{_at(began)}: node {victim.node_id} frozen for {FREEZE_SECONDS:.0f}s")
    os.kill(victim.process.pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(FREEZE_SECONDS)
    finally:
        os.kill(victim.process.pid, signal.SIGCONT)
    await _back_in_sync(cluster)
    tell(f"{_at(began)}: node {victim.node_id} thawed, every replica in sync")
    return 1


Fault = Callable[[EmbeddedKafka, Settings, float, float], Awaitable[int]]
FAULTS: dict[str, tuple[str, Fault]] = {
    "kill": ("kill -9 of the node leading the busy partitions, then its restart", _kill_busy_leaders),
    "rolling": ("a rolling restart of all three nodes, one after another", _restart_each_node),
    "freeze": (f"the node leading the busy partitions frozen (SIGSTOP) for {FREEZE_SECONDS:.0f} s",
               _freeze_busy_leader),
}


async def _codes_in_output(db: AsyncEngine, launch: Launcher) -> list[str]:
    """Workers whose output holds a code of the test's certificates, in any spelling."""
    async with db.connect() as connection:
        codes = [row.code for row in await connection.execute(text("SELECT code FROM certificates"))]
    secrets = set().union(*(spellings(code) for code in codes)) if codes else set()
    return [
        f"{worker.log.name} holds a code" for worker in launch.workers
        if any(secret in worker.output for secret in secrets)
    ]


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_broker_fault_under_a_mixed_stream_breaks_no_invariant(
    fault: str, whole_cluster: EmbeddedKafka, settings: Settings, launch: Launcher, wire: Wire,
    db: AsyncEngine, workspace: str, mail_folder: Path, reliability: Recorder,
) -> None:
    started = time.monotonic()
    name, inject = FAULTS[fault]
    seed = seed_from("GIFTCERT_BROKER_FAULTS_SEED")
    stream = await plan_mixed_stream(db, workspace, seed, commands=COMMANDS)

    workers = [launch(service, topic_replication_factor="3") for service in WORKERS]
    await asyncio.gather(*(worker.wait_until_started() for worker in workers))
    sending = asyncio.create_task(WorkloadSender(wire, db).play(stream.workload))
    began = asyncio.get_running_loop().time()
    injected = await inject(whole_cluster, settings, began, began + stream.workload.duration)
    sent = await sending
    problems = await verdict(
        db, wire, stream, sent, mail_folder, headline=f"seed {seed}, {name} x{injected}",
        settle_seconds=SETTLE_SECONDS,
    )
    silent = await silent_partitions(wire, f"{workspace}-a", timeout=PROBE_SECONDS)
    tell(f"silent after the fault: {silent}")
    died = [f"{w.services} exited ({w.process.returncode})" for w in workers if w.process.poll() is not None]
    leaked = await _codes_in_output(db, launch)
    reliability.record(
        f"{name}, under {COMMANDS} mixed commands (3-node Kafka)", injected=injected,
        invariants=[*INVARIANTS, *MORE_INVARIANTS],
    )
    tell(f"{name}: {injected} injected, {time.monotonic() - started:.0f}s in all")
    assert not problems, problems
    assert not silent, silent
    assert not died, died
    assert not leaked, leaked
