"""Apache Kafka on 127.0.0.1, started by our own code: one node, or a cluster of three, each node a
controller and a broker at once (KRaft combined mode).

The broker's jars come from Maven Central once (`mvn dependency:copy-dependencies` on a generated
pom, Maven's own downloads kept beside them) into a cache folder, `~/.cache/giftcert/kafka-<version>`
(or GIFTCERT_KAFKA_CACHE), and are reused from there. Each node's storage is formatted
(`kafka.tools.StorageTool format`, static `controller.quorum.voters`), then `kafka.Kafka` runs in a
session of its own with a small heap, dies with this process (PR_SET_PDEATHSIG) and is stopped with
SIGTERM, then SIGKILL. Given a reaper's pipe (`reaper_pipe`), every node started, restarted ones too,
is on the reaper's list until it ends, so no JVM outlives a parent killed with SIGKILL. The cluster
counts as started once a client has produced a record with `acks=all`, read it back and committed
its offset in a group, not when a port accepts connections.

Without `java` (or without `mvn` and no cache yet) `KafkaUnavailableError` says so in one line; the
callers then use Tansu (giftcert.embedded.broker)."""

import asyncio
import base64
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from giftcert.embedded.parent_death import die_with_parent
from giftcert.embedded.reaper import forget, watch

KAFKA_VERSION = "4.3.1"
LOG4J_VERSION = "2.25.3"
"""log4j-slf4j-impl is the SLF4J 1.x binding Kafka's published pom leaves out (the broker logs
through slf4j-api 1.7); log4j-core reads our log4j2 configuration."""

SINGLE_NODE_HEAP = "512m"
CLUSTER_NODE_HEAP = "384m"
STOP_SECONDS = 20.0

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>giftcert.embedded</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <File name="server" fileName="${sys:kafka.logs.dir}/server.log">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="server"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="kafka.log" level="WARN"/>
    <Logger name="org.apache.kafka.storage" level="WARN"/>
    <Logger name="kafka.cluster.Partition" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="WARN"/>
  </Loggers>
</Configuration>
"""

_JVM_OPTIONS = (
    "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent", "-Djava.awt.headless=true",
)
"""bin/kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS, without -server (the default)."""


class KafkaUnavailableError(RuntimeError):
    """Apache Kafka cannot run here (no Java, or no Maven to fetch it); the message is one line."""


def cache_dir() -> Path:
    if folder := os.environ.get("GIFTCERT_KAFKA_CACHE"):
        return Path(folder)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "giftcert" / f"kafka-{KAFKA_VERSION}"


def unavailable_reason() -> str | None:
    """Why Apache Kafka cannot run on this machine, in one line; None when it can."""
    if shutil.which("java") is None:
        return "no `java` on PATH (apt-get install openjdk-17-jre-headless)"
    if not (cache_dir() / "classpath.txt").exists() and shutil.which("mvn") is None:
        return f"no `mvn` on PATH to fetch Kafka {KAFKA_VERSION} into {cache_dir()} (apt-get install maven)"
    return None


def kafka_classpath() -> str:
    """The broker's classpath, resolved through Maven on first use and read from the cache after.
    A lock file keeps two processes from resolving into the same folder at once."""
    if reason := unavailable_reason():
        raise KafkaUnavailableError(f"Apache Kafka cannot run here: {reason}")
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    listing = folder / "classpath.txt"
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not listing.exists():
            _resolve(folder)
    return listing.read_text().strip()


def _resolve(folder: Path) -> None:
    (folder / "pom.xml").write_text(_POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION))
    libs = folder / "libs"
    shutil.rmtree(libs, ignore_errors=True)
    command = [
        "mvn", "--batch-mode", "--quiet", "-f", str(folder / "pom.xml"),
        f"-Dmaven.repo.local={folder / 'maven'}", "dependency:copy-dependencies",
        f"-DoutputDirectory={libs}", "-DincludeScope=runtime",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed arguments
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise KafkaUnavailableError(f"Maven could not resolve Kafka {KAFKA_VERSION}: {' | '.join(tail)}")
    jars = sorted(str(jar) for jar in libs.glob("*.jar"))
    partial = folder / "classpath.txt.partial"
    partial.write_text(os.pathsep.join(jars) + "\n")
    partial.replace(folder / "classpath.txt")


def _free_ports(count: int) -> list[int]:
    """`count` distinct free ports: all probes stay bound until every port is chosen."""
    with contextlib.ExitStack() as probes:
        ports = []
        for _ in range(count):
            probe = probes.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            ports.append(int(probe.getsockname()[1]))
        return ports


def _cluster_id() -> str:
    """What `kafka-storage.sh random-uuid` prints: a UUID, base64url without padding, drawn again while
    it starts with "-" (Kafka's own `Uuid.randomUuid` does the same: a command line would read such an
    id as an option; one id in 64 did, and failed a CI run)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass
class KafkaNode:
    node_id: int
    port: int
    controller_port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def properties(self) -> Path:
        return self.folder / "server.properties"


class EmbeddedKafka:
    """`nodes` Apache Kafka nodes on loopback. One node: internal topics with replication factor 1
    and min ISR 1 (their defaults, 3 and 2, would leave consumers waiting for a coordinator for
    ever). Three nodes: replication factor 3 and `min.insync.replicas=2` for every topic, so an
    `acks=all` write survives one node down. Either way the first rebalance of a group is not
    delayed (`group.initial.rebalance.delay.ms=0`, 3 s by default) and topics are never created
    by a client's metadata request: the services create theirs at start, as in production."""

    def __init__(self, folder: Path, *, nodes: int = 1, heap: str | None = None) -> None:
        self.folder = folder.resolve()
        self.count = nodes
        self.heap = heap or (SINGLE_NODE_HEAP if nodes == 1 else CLUSTER_NODE_HEAP)
        self.nodes: list[KafkaNode] = []
        self.bootstrap_servers = ""
        self.reaper_pipe: int | None = None
        """A reaper's pipe (giftcert.embedded.reaper.start_reaper): each node's JVM is told to it."""
        self._classpath = ""

    @property
    def name(self) -> str:
        return f"Apache Kafka {KAFKA_VERSION} (KRaft, {self.count} node{'s' if self.count > 1 else ''})"

    @property
    def replication_factor(self) -> int:
        return min(self.count, 3)

    @property
    def min_insync_replicas(self) -> int:
        return 1 if self.count == 1 else 2

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The first node's JVM (the only one of a single node)."""
        return self.nodes[0].process if self.nodes else None

    @property
    def pids(self) -> list[int]:
        return [node.process.pid for node in self.nodes if node.process is not None]

    def start(self, *, timeout: float = 180.0) -> str:
        """Formats every node's storage, starts them, and returns the bootstrap servers once a
        record went through. Raises KafkaUnavailableError without Java or Maven."""
        self._classpath = kafka_classpath()
        ports = _free_ports(2 * self.count)
        self.nodes = [
            KafkaNode(i + 1, ports[2 * i], ports[2 * i + 1], self.folder / f"node-{i + 1}") for i in range(self.count)
        ]
        self.bootstrap_servers = ",".join(node.address for node in self.nodes)
        try:
            self._format()
            for node in self.nodes:
                self.start_node(node)
            _wait_ready(self, timeout)
        except BaseException:
            self.stop()
            raise
        return self.bootstrap_servers

    def _configure(self, node: KafkaNode) -> None:
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        rf, isr = self.replication_factor, self.min_insync_replicas
        settings = {
            "process.roles": "broker,controller",
            "node.id": node.node_id,
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": node.folder / "data",
            "auto.create.topics.enable": "false",
            "num.partitions": 1,
            "default.replication.factor": rf,
            "min.insync.replicas": isr,
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": isr,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": isr,
            "group.initial.rebalance.delay.ms": 0,
            "num.network.threads": 2,
            "num.io.threads": 4,
            "num.recovery.threads.per.data.dir": 1,
            "log.retention.check.interval.ms": 300_000,
        }
        node.folder.mkdir(parents=True, exist_ok=True)
        node.properties.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        (node.folder / "log4j2.xml").write_text(_LOG4J2)

    def _java(self, node: KafkaNode, heap: str, *arguments: str) -> list[str]:
        return [
            "java", f"-Xmx{heap}", f"-Xms{min(heap, '128m', key=_megabytes)}", *_JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={node.folder / 'log4j2.xml'}", f"-Dkafka.logs.dir={node.folder}",
            "-cp", self._classpath, *arguments,
        ]

    def _format(self) -> None:
        """Every node's storage at once (one short JVM each), with the same cluster id."""
        cluster_id = _cluster_id()
        formatting = []
        for node in self.nodes:
            shutil.rmtree(node.folder, ignore_errors=True)  # a new cluster each start, as Tansu's memory
            self._configure(node)
            command = self._java(
                node, "256m", "kafka.tools.StorageTool", "format",
                f"--cluster-id={cluster_id}", "-c", str(node.properties),
            )
            log = (node.folder / "format.log").open("wb")
            formatting.append((node, log, subprocess.Popen(  # noqa: S603 - our own command line
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - started from the main thread
            )))
        for node, log, process in formatting:
            code = process.wait()
            log.close()
            if code != 0:  # the log's tail in the message: a test's folder may be gone when it is read
                tail = (node.folder / "format.log").read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError(f"formatting Kafka node {node.node_id} failed (exit {code}):\n" + "\n".join(tail))

    def start_node(self, node: KafkaNode) -> None:
        """Starts (or restarts, on its formatted storage and its ports) one node; returns at once.
        Call it from the main thread: the JVM's parent-death signal comes when the starting thread
        ends (a worker thread of `asyncio.to_thread` would take the node down with it)."""
        if node.process is not None and node.process.poll() is None:
            return
        with (node.folder / "stdout.log").open("ab") as log:
            node.process = subprocess.Popen(  # noqa: S603 - our own command line
                self._java(  # the address on the command line too: `ps` shows which broker this is
                    node, self.heap, "kafka.Kafka", str(node.properties),
                    "--override", f"advertised.listeners=PLAINTEXT://{node.address}",
                ),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent, start_new_session=True,  # noqa: PLW1509
            )
        if self.reaper_pipe is not None:
            watch(self.reaper_pipe, node.process.pid)

    def _ended(self, pid: int) -> None:
        if self.reaper_pipe is not None:
            forget(self.reaper_pipe, pid)

    def stop_node(self, node: KafkaNode, *, timeout: float = STOP_SECONDS) -> None:
        """A controlled shutdown of one node (SIGTERM; SIGKILL after `timeout`)."""
        _stop([node], timeout, self._ended)

    def kill_node(self, node: KafkaNode) -> None:
        """kill -9 of one node: no controlled shutdown, its partitions' leadership moves only when
        the controllers notice its broker session lapsed."""
        if node.process is not None:
            node.process.kill()
            node.process.wait()
            self._ended(node.process.pid)
            node.process = None

    def leader_of(self, leaders: dict[int, int]) -> KafkaNode:
        """The node that leads most of the given {partition: leader id}, e.g. of a busy topic."""
        counts = {node.node_id: 0 for node in self.nodes}
        for leader in leaders.values():
            if leader in counts:
                counts[leader] += 1
        busiest = max(counts, key=lambda node_id: counts[node_id])
        return next(node for node in self.nodes if node.node_id == busiest)

    def wait_ready(self, *, timeout: float = 120.0) -> None:
        """Until every node is a broker in the cluster's metadata and a record goes through."""
        _wait_ready(self, timeout)

    def wait_in_sync(self, *, timeout: float = 120.0) -> None:
        """Until every replica of every partition is in its ISR again, e.g. a restarted node has
        caught up. A rolling restart waits for this before it stops the next node: stopped sooner,
        a partition would be left with one in-sync copy, below `min.insync.replicas`."""
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _in_sync(self, timeout)).result()

    def stop(self) -> None:
        """SIGTERM to every node at once (a controlled shutdown each), SIGKILL to any still running
        after STOP_SECONDS: alone, the last node of a cluster could wait on a quorum that is gone."""
        _stop(self.nodes, STOP_SECONDS, self._ended)


def _megabytes(size: str) -> int:
    return int(size.rstrip("mM"))


def _stop(nodes: list[KafkaNode], timeout: float, ended: Callable[[int], None]) -> None:
    running = [node for node in nodes if node.process is not None]
    for node in running:
        assert node.process is not None  # noqa: S101
        with contextlib.suppress(ProcessLookupError):
            os.kill(node.process.pid, signal.SIGCONT)  # a frozen JVM cannot act on SIGTERM
        node.process.terminate()
    deadline = time.monotonic() + timeout
    for node in running:
        assert node.process is not None  # noqa: S101
        try:
            node.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()
        ended(node.process.pid)
        node.process = None


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_ready(kafka: EmbeddedKafka, timeout: float) -> None:
    """Runs the client check on a thread of its own (the caller may be inside an event loop), with
    aiokafka's logger hushed: its errors while the broker comes up (no coordinator yet) are expected."""
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _ready(kafka, timeout)).result()
    finally:
        client_log.setLevel(level)


async def _ready(kafka: EmbeddedKafka, timeout: float) -> None:
    from aiokafka.errors import KafkaError  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        for node in kafka.nodes:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"Kafka node {node.node_id} exited at start; see {node.folder / 'server.log'}")
        if not all(_listening(node.port) for node in kafka.nodes):  # spares the clients' connection errors
            await asyncio.sleep(0.2)
            continue
        try:
            await _round_trip(kafka)
        except (TimeoutError, KafkaError, OSError, NotReadyError) as error:
            last = error
            await asyncio.sleep(0.5)
        else:
            return
    raise RuntimeError(f"Kafka did not answer a produce and fetch within {timeout}s: {last!r}")


class NotReadyError(Exception):
    pass


async def _round_trip(kafka: EmbeddedKafka) -> None:
    """Every node registered as a broker; a record written with `acks=all` and read back."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: PLC0415
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: PLC0415
    from aiokafka.errors import TopicAlreadyExistsError  # noqa: PLC0415

    topic = "giftcert-embedded-ready"
    servers = kafka.bootstrap_servers
    async with contextlib.AsyncExitStack() as clients:
        admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=5000)
        clients.push_async_callback(_quietly, admin.close)
        await admin.start()
        brokers = (await admin.describe_cluster())["brokers"]
        if len(brokers) < kafka.count:
            raise NotReadyError(f"{len(brokers)} of {kafka.count} brokers registered")
        response = await admin.create_topics([NewTopic(topic, 1, kafka.replication_factor)])
        codes = [entry[1] for entry in response.topic_errors]
        if codes not in ([0], [TopicAlreadyExistsError.errno]):
            raise NotReadyError(f"creating {topic}: error {codes}")
        producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", request_timeout_ms=5000)
        clients.push_async_callback(_quietly, producer.stop)
        await producer.start()
        sent = await producer.send_and_wait(topic, b"ready")
        # a group's commit: the offsets topic exists before the first service asks for a coordinator
        consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, group_id=topic)
        clients.push_async_callback(_quietly, consumer.stop)
        await consumer.start()
        partition = TopicPartition(topic, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        records = await consumer.getmany(partition, timeout_ms=5000)
        if not records.get(partition):
            raise NotReadyError("the record written was not read back")
        await consumer.commit({partition: sent.offset + 1})


async def _in_sync(kafka: EmbeddedKafka, timeout: float) -> None:
    from aiokafka.admin import AIOKafkaAdminClient  # noqa: PLC0415
    from aiokafka.errors import KafkaError  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    behind: list[str] = ["(not looked yet)"]
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers, request_timeout_ms=5000)
        try:
            await admin.start()
            described = await admin.describe_topics(await admin.list_topics())
            behind = [
                f"{topic['topic']}[{partition['partition']}]"
                for topic in described for partition in topic["partitions"]
                if set(partition["isr"]) != set(partition["replicas"])
            ]
        except (TimeoutError, KafkaError, OSError) as error:
            behind = [repr(error)]
        finally:
            await _quietly(admin.close)
        if not behind:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"replicas still out of sync after {timeout}s: {behind[:5]}")


async def _quietly(close: Callable[[], Awaitable[object]]) -> None:
    with contextlib.suppress(Exception):
        await close()
