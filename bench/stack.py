"""The stack a benchmark runs on: embedded PostgreSQL and broker, a database and topics of each
scenario's own, the services as `giftcert run` processes, and an SMTP sink in a process of its own.
Every process it starts dies with it, even when it is killed with SIGKILL (parent_death.py, the
embedded stack's reaper), and the sink's folder in memory goes with the sink."""

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from uuid import uuid4

from bench.mail_sink import REMOVED_AT_EXIT
from giftcert.embedded.broker import free_port
from giftcert.embedded.parent_death import die_with_parent
from giftcert.embedded.stack import EmbeddedStack
from giftcert.settings import Settings
from giftcert.store.migrate import upgrade_database
from giftcert_services.runtime.topics import ensure_topics

GIFTCERT = str(Path(sys.executable).with_name("giftcert"))
STARTED = re.compile(r"app started successfully")
FETCH_MAX_WAIT_MS = 50
"""Tansu holds a fetch even when data arrives (giftcert.embedded.broker): the workers ask for short
ones, paying some idle CPU (about a fifth of a core per ledger process) for latency."""
MEMORY_FOLDERS = Path("/dev/shm")  # noqa: S108 - the sink's folder in it comes from mkdtemp: private, unique
"""Where the sink keeps its emails if the machine has it (tmpfs): the sink stands for a mail server
on another machine, and writing its files to this one's disk cost it 0.2 to 0.9 ms of CPU an email
in the activation scenario, near as much as its SMTP, taken from the processes measured."""


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


@dataclass
class Worker:
    service: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_until_started(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not STARTED.search(self.log.read_text(errors="replace")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"giftcert run {self.service} did not start:\n{tail}")
            time.sleep(0.1)

    @property
    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Scenario:
    """A database and topics of its own, and the settings the services and the load share."""

    settings: Settings
    folder: Path
    workers: list[Worker] = field(default_factory=list)

    @property
    def database_dsn(self) -> str:
        """The database for asyncpg itself (seeding, limits)."""
        return self.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")

    def environment(self) -> dict[str, str]:
        s = self.settings
        return os.environ | {
            "GIFTCERT_DATABASE_URL": s.database_url,
            "GIFTCERT_KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers,
            "GIFTCERT_TOPIC_PREFIX": s.topic_prefix,
            "GIFTCERT_CONSUMER_GROUP_PREFIX": s.consumer_group_prefix,
            "GIFTCERT_TOPIC_PARTITIONS": str(s.topic_partitions),
            "GIFTCERT_SMTP_PORT": str(s.smtp_port),
            "GIFTCERT_HEALTH_PORT": "0",
            "GIFTCERT_EXPIRY_TICK_SECONDS": "86400",
            "GIFTCERT_KAFKA_FETCH_MAX_WAIT_MS": str(FETCH_MAX_WAIT_MS),
        }

    def start(self, services: Sequence[str]) -> list[Worker]:
        """One process per service, as production runs them; returns once all have started."""
        started = []
        for service in services:
            log = self.folder / f"{service}-{len(self.workers)}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(  # noqa: S603 - our own command
                    [GIFTCERT, "run", service], env=self.environment(), stdout=sink, stderr=subprocess.STDOUT,
                    preexec_fn=die_with_parent,  # noqa: PLW1509 - one system call; see parent_death.py
                )
            started.append(Worker(service, process, log))
        self.workers.extend(started)
        for worker in started:
            worker.wait_until_started()
        return started

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers.clear()


class BenchStack:
    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.embedded = EmbeddedStack(self.folder / "stack")
        self._mail: subprocess.Popen[bytes] | None = None
        self.smtp_port = 0
        self.mail_folder = self.folder / "mail"

    def __enter__(self) -> Self:
        self.embedded.__enter__()
        self.smtp_port = free_port()
        removal: list[str] = []
        if MEMORY_FOLDERS.is_dir():
            self.mail_folder = Path(tempfile.mkdtemp(prefix="giftcert-bench-mail-", dir=MEMORY_FOLDERS))
            removal = [REMOVED_AT_EXIT]
        self._mail = subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", "bench.mail_sink", str(self.mail_folder), str(self.smtp_port), *removal],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - one system call; see parent_death.py
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mail is not None:
            self._mail.terminate()
            self._mail.wait(30)  # it removed its folder in memory
        self.embedded.close()

    @property
    def postgres_pids(self) -> list[int]:
        return [] if self.embedded.postgres.pid is None else [self.embedded.postgres.pid]

    def _database(self, name: str) -> str:
        url = self.embedded.postgres.create_database(f"bench_{name}")
        upgrade_database(url)
        return url

    @contextmanager
    def scenario(self, name: str, **settings: object) -> Iterator[Scenario]:
        prefix = f"{name}{uuid4().hex[:6]}."
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        scenario = Scenario(
            Settings(
                database_url=self._database(name),
                kafka_bootstrap_servers=self.embedded.bootstrap_servers,
                topic_prefix=prefix,
                consumer_group_prefix=prefix,
                smtp_port=self.smtp_port,
                **settings,  # type: ignore[arg-type]
            ),
            folder,
        )
        asyncio.run(ensure_topics(scenario.settings))
        try:
            yield scenario
        finally:
            scenario.stop()
