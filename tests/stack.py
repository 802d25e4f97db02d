"""Where the tests' PostgreSQL and broker come from, in this order: GIFTCERT_DATABASE_URL /
GIFTCERT_KAFKA_BOOTSTRAP_SERVERS if set; else testcontainers (PostgreSQL 18, Apache Kafka) when a
Docker engine answers; else the embedded ones, started once per session and stopped after it."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from giftcert.embedded.broker import EmbeddedBroker
from giftcert.embedded.postgres import EmbeddedPostgres
from giftcert.embedded.reaper import start_reaper


def _docker_answers() -> bool:
    try:
        import docker  # noqa: PLC0415

        docker.from_env(timeout=2).ping()
    except Exception:  # noqa: BLE001 - no engine, no client, no permission: all mean "no"
        return False
    return True


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
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer  # noqa: PLC0415

        container = _stack.enter_context(KafkaContainer("apache/kafka:4.1.1").with_kraft())
        return str(container.get_bootstrap_server())
    broker = EmbeddedBroker(Path(tmp_path_factory.mktemp("broker")))
    servers = broker.start()
    _stack.callback(broker.stop)
    return servers
