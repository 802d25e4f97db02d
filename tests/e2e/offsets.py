"""What a consumer group has committed, read as Kafka keeps it (an OffsetFetch, without joining the
group): the tests that stop a worker check from it which messages count as done."""

from aiokafka import AIOKafkaConsumer, TopicPartition

from giftcert.settings import Settings
from giftcert_contracts.topics import Topic


async def committed_offsets(settings: Settings, service: str, topic: Topic) -> dict[int, int | None]:
    """The next offset to read on each partition of `topic` for the service's group (None: nothing
    committed there yet)."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.group_id(service, topic),
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        name = settings.topic(topic)
        return {p: await reader.committed(TopicPartition(name, p)) for p in range(settings.topic_partitions)}
    finally:
        await reader.stop()
