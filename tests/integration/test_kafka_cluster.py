"""The three-node Apache Kafka cluster of giftcert.embedded.kafka, what production's replication
settings promise: the service's topics, created by its own plan with replication factor 3, take
`min.insync.replicas=2` from the brokers; with the node leading the busy partitions stopped or
killed, a producer with `acks=all` keeps writing and a consumer group reads every record; the stopped node
comes back into every ISR. With one in-sync copy left, an `acks=all` write is refused."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from giftcert.embedded.kafka import EmbeddedKafka, KafkaNode
from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.topics import ensure_topics
from tests.stack import running_cluster

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedKafka]:
    with running_cluster(Path(tmp_path_factory.mktemp("cluster"))) as kafka:
        yield kafka


async def _partitions(servers: str, topic: str) -> list[dict[str, object]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        return sorted(described["partitions"], key=lambda p: p["partition"])
    finally:
        await admin.close()


async def _config(servers: str, topic: str, key: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [resource] = response.resources
        return {entry[0]: entry[1] for entry in resource[4]}[key]
    finally:
        await admin.close()


async def _until_every_isr_is_whole(servers: str, topic: str, timeout: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        partitions = await _partitions(servers, topic)
        if all(len(p["isr"]) == 3 for p in partitions):  # type: ignore[arg-type]
            return
        assert asyncio.get_running_loop().time() < deadline, f"ISRs not whole again: {partitions}"
        await asyncio.sleep(0.5)


def _node(cluster: EmbeddedKafka, node_id: object) -> KafkaNode:
    return next(node for node in cluster.nodes if node.node_id == node_id)


async def _send(producer: AIOKafkaProducer, topic: str, values: range) -> None:
    for value in values:
        await producer.send_and_wait(topic, str(value).encode(), key=f"k{value % 7}".encode())


@pytest.mark.parametrize("how", ["stopped", "killed"])
async def test_acks_all_writes_go_on_with_the_busiest_leader_stopped_or_killed_and_come_back_in_sync(
    cluster: EmbeddedKafka, how: str,
) -> None:
    settings = Settings(
        kafka_bootstrap_servers=cluster.bootstrap_servers, topic_prefix=f"rf3{uuid4().hex[:8]}.",
        topic_partitions=3, topic_replication_factor=3,
    )
    await ensure_topics(settings)
    topic = settings.topic(Topic.CERTIFICATE_CREATED)
    servers = cluster.bootstrap_servers
    partitions = await _partitions(servers, topic)
    assert [len(p["replicas"]) for p in partitions] == [3, 3, 3]  # type: ignore[arg-type]
    assert await _config(servers, topic, "min.insync.replicas") == "2"

    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", request_timeout_ms=10_000)
    await producer.start()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=servers, group_id=f"g{uuid4().hex[:8]}", auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        await _send(producer, topic, range(100))
        leader = cluster.leader_of({p["partition"]: p["leader"] for p in partitions})  # type: ignore[misc]
        if how == "stopped":
            cluster.stop_node(leader)  # a controlled shutdown: leadership handed over first
        else:
            cluster.kill_node(leader)  # kill -9: leaders move once its broker session lapses
        await _send(producer, topic, range(100, 200))  # acks=all: two copies of each, on the two left

        await consumer.start()
        seen: list[int] = []
        deadline = asyncio.get_running_loop().time() + 60
        while len(seen) < 200 and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            seen += [int(record.value) for records in batches.values() for record in records]
        assert sorted(seen) == list(range(200)), "every record written with acks=all is read back once"
        await consumer.commit()  # the offsets topic has replication factor 3 too

        cluster.start_node(leader)
        await _until_every_isr_is_whole(servers, topic)

    finally:
        await consumer.stop()
        await producer.stop()


async def test_an_acks_all_write_with_one_in_sync_copy_is_refused_while_acks_1_still_goes_through(
    cluster: EmbeddedKafka,
) -> None:
    """min.insync.replicas=2 at work: a topic with two replicas, one of them stopped (the quorum
    of controllers still stands), its leader alive and taking acks=1 writes, yet refusing acks=all."""
    servers = cluster.bootstrap_servers
    topic = f"two-copies-{uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 2)])
    finally:
        await admin.close()
    [partition] = await _partitions(servers, topic)
    follower = _node(cluster, next(r for r in partition["replicas"] if r != partition["leader"]))  # type: ignore[attr-defined]
    cluster.stop_node(follower)
    everything = AIOKafkaProducer(bootstrap_servers=servers, acks="all", request_timeout_ms=5_000)
    leader_only = AIOKafkaProducer(bootstrap_servers=servers, acks=1)
    await everything.start()
    await leader_only.start()
    try:
        with pytest.raises(KafkaError):
            await asyncio.wait_for(everything.send_and_wait(topic, b"needs two copies"), timeout=60)
        await leader_only.send_and_wait(topic, b"one copy is enough here")
    finally:
        await everything.stop()
        await leader_only.stop()
        cluster.start_node(follower)
