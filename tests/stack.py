"""Where the tests' PostgreSQL and broker come from, in this order: GIFTCERT_DATABASE_URL /
GIFTCERT_KAFKA_BOOTSTRAP_SERVERS if set; else testcontainers (PostgreSQL 18) when a Docker engine
answers; else the embedded ones, started once per session and stopped after it.

The embedded broker is GIFTCERT_TEST_BROKER's: `kafka` (the default: Apache Kafka, one KRaft node,
giftcert.embedded.kafka) or `tansu`. Where Kafka cannot run (no Java or Maven), a Docker engine's
Apache Kafka if one answers, else Tansu. The run's header says which broker it used; tests that
start a broker of their own (`own_broker`) start the same kind."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from giftcert.embedded.kafka import EmbeddedKafka, unavailable_reason
from giftcert.embedded.postgres import EmbeddedPostgres
from giftcert.embedded.reaper import start_reaper, watch
from giftcert.embedded.stack import BROKER_KINDS, Broker, BrokerKind, embedded_broker


def broker_kind() -> BrokerKind:
    """GIFTCERT_TEST_BROKER, `kafka` unless set."""
    wanted = os.environ.get("GIFTCERT_TEST_BROKER", "kafka")
    for kind in BROKER_KINDS:
        if kind == wanted:
            return kind
    raise pytest.UsageError(f"GIFTCERT_TEST_BROKER is one of {', '.join(BROKER_KINDS)}, not {wanted!r}")


def _broker_used() -> str:
    if servers := os.environ.get("GIFTCERT_KAFKA_BOOTSTRAP_SERVERS"):
        return f"the one at {servers} (GIFTCERT_KAFKA_BOOTSTRAP_SERVERS)"
    kind = broker_kind()
    if kind == "tansu":
        return "Tansu, embedded (GIFTCERT_TEST_BROKER=tansu)"
    if reason := unavailable_reason():
        instead = "Apache Kafka in Docker" if _docker_answers() else "Tansu, embedded"
        return f"{instead}: Apache Kafka cannot run here ({reason})"
    return f"{EmbeddedKafka(Path()).name}, embedded (GIFTCERT_TEST_BROKER=kafka)"


def pytest_report_header() -> str:
    return f"giftcert broker: {_broker_used()}"


@contextmanager
def running_broker(folder: Path) -> Iterator[Broker]:
    """A started broker of the session's kind (one test may freeze, kill or restart its own), with
    a reaper that knows every process of it, restarted ones too: a JVM must not outlive a pytest
    killed with SIGKILL."""
    broker = embedded_broker(broker_kind(), folder)
    _, pipe = start_reaper(None, [])
    try:
        if isinstance(broker, EmbeddedKafka):
            broker.reaper_pipe = pipe  # each node started, at start or later, is on the list
            broker.start()
        else:
            broker.start()
            for pid in broker.pids:
                watch(pipe, pid)
        yield broker
    finally:
        try:
            broker.stop()
        finally:
            os.close(pipe)


def _docker_answers() -> bool:
    try:
        import docker  # noqa: PLC0415

        docker.from_env(timeout=2).ping()
    except Exception:  # noqa: BLE001 - no engine, no client, no permission: all mean "no"
        return False
    return True


@contextmanager
def running_cluster(folder: Path, nodes: int = 3) -> Iterator[EmbeddedKafka]:
    """A started Apache Kafka cluster of `nodes` KRaft nodes (replication factor 3, min ISR 2),
    with a reaper for every JVM it starts, at start and when a test restarts a node; skips where
    Kafka cannot run (Tansu has no cluster)."""
    if reason := unavailable_reason():
        pytest.skip(f"Apache Kafka cannot run here: {reason}")
    cluster = EmbeddedKafka(folder, nodes=nodes)
    _, pipe = start_reaper(None, [])
    cluster.reaper_pipe = pipe
    try:
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            os.close(pipe)


@pytest.fixture(scope="session")
def _stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def postgres_server_url(_stack: ExitStack) -> str:
    if url := os.environ.get("GIFTCERT_DATABASE_URL"):
        return url
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

        container = _stack.enter_context(PostgresContainer("postgres:18", driver="asyncpg"))
        return str(container.get_connection_url())
    # not under pytest's basetemp: pytest prunes old basetemps, and a concurrent session could
    # remove the data folder of a server that is still running
    folder = Path(tempfile.mkdtemp(prefix="giftcert-test-pg-"))
    _stack.callback(shutil.rmtree, folder, ignore_errors=True)
    server = EmbeddedPostgres()
    url = server.start(folder / "data")
    assert server.pgdata is not None
    assert server.pid is not None
    _, pipe = start_reaper(server.pgdata, [server.pid])
    _stack.callback(os.close, pipe)
    _stack.callback(server.stop)
    return url


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(_stack: ExitStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    if servers := os.environ.get("GIFTCERT_KAFKA_BOOTSTRAP_SERVERS"):
        return servers
    kind = broker_kind()
    if kind == "kafka" and unavailable_reason() and _docker_answers():
        from testcontainers.kafka import KafkaContainer  # noqa: PLC0415

        container = _stack.enter_context(KafkaContainer("apache/kafka:4.1.1").with_kraft())
        return str(container.get_bootstrap_server())
    broker = _stack.enter_context(running_broker(Path(tmp_path_factory.mktemp("broker"))))
    return broker.bootstrap_servers
