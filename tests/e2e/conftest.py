"""End-to-end fixtures: services as real `giftcert run ...` processes, configured only through
GIFTCERT_* environment variables, on the session's PostgreSQL and broker. Each test gets topics and
consumer groups of its own, so processes of one test never meet another test's messages."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.mail.sink import MailFolderSink
from giftcert.settings import Settings
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.topics import ensure_topics
from tests.databases import migrated_database_url

GIFTCERT = str(Path(sys.executable).with_name("giftcert"))
STARTED = "FastStream app started successfully"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Worker:
    """One `giftcert run SERVICE...` process; its output goes to a file the test can wait on."""

    def __init__(self, services: tuple[str, ...], env: dict[str, str], log: Path) -> None:
        self.services = services
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                [GIFTCERT, "run", *services], env=env, stdout=sink, stderr=subprocess.STDOUT,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def wait_for_output(self, pattern: str, *, count: int = 1, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.output)) < count:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.services} exited ({self.process.returncode}):\n{self.output[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} x{count} not seen from {self.services}:\n{self.output[-3000:]}")
            await asyncio.sleep(0.1)

    async def wait_until_started(self) -> "Worker":
        await self.wait_for_output(STARTED)
        return self

    async def wait_for_exit(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.services} still running:\n{self.output[-3000:]}")
            await asyncio.sleep(0.1)
        return self.process.returncode

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


@pytest.fixture
def database_url(postgres_server_url: str) -> str:
    """A database per test: an outbox belongs to one deployment, and the integration tests' relay
    (running in this session too) would publish this test's events to its own topics."""
    return migrated_database_url(postgres_server_url, "e2e")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def settings(database_url: str, kafka_bootstrap_servers: str, mail_sink: MailFolderSink) -> Settings:
    prefix = f"e2e{uuid4().hex[:8]}."
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_prefix=prefix,
        consumer_group_prefix=prefix,
        smtp_port=mail_sink.port,
        topic_partitions=2,
        relay_poll_seconds=0.02,
        retry_initial_seconds=0.05,
        retry_max_seconds=1.0,
        graceful_timeout_seconds=2.0,
    )


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The settings as a container would get them: GIFTCERT_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTCERT_")}
    for name in (
        "database_url", "kafka_bootstrap_servers", "topic_prefix", "consumer_group_prefix", "smtp_host",
        "smtp_port", "topic_partitions", "relay_poll_seconds", "retry_initial_seconds", "retry_max_seconds",
        "graceful_timeout_seconds", "kafka_fetch_max_wait_ms", "kafka_request_timeout_ms",
        "kafka_metadata_max_age_ms",
    ):
        env[f"GIFTCERT_{name.upper()}"] = str(getattr(settings, name))
    env["GIFTCERT_HEALTH_PORT"] = "0"  # several workers on one host: a test that wants it passes health_port
    env["GIFTCERT_LOG_FORMAT"] = "text"  # the tests read FastStream's text; test_worker_json_logs.py reads JSON
    return env | {f"GIFTCERT_{k.upper()}": v for k, v in extra.items()}


class Launcher:
    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder
        self.workers: list[Worker] = []

    def __call__(self, *services: str, **env: str) -> Worker:
        """Starts `giftcert run SERVICES` with extra GIFTCERT_* settings (e.g. failpoints="...")."""
        log = self.folder / f"{len(self.workers):02d}-{'-'.join(services)}.log"
        worker = Worker(services, environment(self.settings, **env), log)
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def launch(settings: Settings, tmp_path: Path) -> Iterator[Launcher]:
    launcher = Launcher(settings, tmp_path)
    yield launcher
    launcher.stop_all()


@pytest.fixture
async def wire(settings: Settings) -> AsyncIterator[Wire]:
    await ensure_topics(settings)
    wire = Wire(settings)
    await wire.start()
    yield wire
    await wire.stop()
