"""Every topic the service reads or writes, with its dead-letter topic, and how each is created.

One plan (`topic_plan`) serves both the workers, which create what is missing when they start
(`ensure_topics`), and operators, who look at it and apply it ahead of time (`giftcert topics plan`,
`giftcert topics create`). Topics that exist already are never altered: their partitions and
configs may have been tuned on purpose, and changing a partition count moves keys between partitions."""

import asyncio
import logging
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaTimeoutError, TopicAlreadyExistsError, for_code

from giftcert.settings import Settings
from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.runtime.kafka_security import aiokafka_options

log = logging.getLogger("giftcert.topics")

# events the service consumes itself (documents, mailer): each needs a dead-letter topic too
CONSUMED_EVENTS = (
    Topic.CERTIFICATE_ACTIVATED, Topic.PDF_READY, Topic.CERTIFICATE_EXPIRING_SOON, Topic.CERTIFICATE_REDEEMED,
)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)
    dead_letters: bool = False

    def new_topic(self) -> NewTopic:
        return NewTopic(self.name, self.partitions, self.replication_factor, topic_configs=self.configs)


@dataclass(frozen=True)
class CreatedTopics:
    created: list[str]
    existing: list[str]


def topic_names(settings: Settings) -> list[str]:
    return [spec.name for spec in topic_plan(settings)]


def topic_plan(settings: Settings) -> list[TopicSpec]:
    """Every topic of the contract, then the dead-letter topic of every topic the service consumes.

    Dead letters are kept longer (`dead_letter_retention_ms`): someone has to notice, investigate and
    replay them. They are always `delete`d, never compacted: a dead letter keeps its original key,
    which may be missing, and Kafka refuses keyless records on a compacted topic; nor may a later
    dead letter with the same key replace an earlier one."""
    topics = [
        TopicSpec(
            settings.topic(topic), settings.topic_partitions, settings.topic_replication_factor,
            {"retention.ms": str(settings.topic_retention_ms), "cleanup.policy": settings.topic_cleanup_policy},
        )
        for topic in Topic
    ]
    dead_letters = [
        TopicSpec(
            settings.dead_letter_topic(topic), settings.topic_partitions, settings.topic_replication_factor,
            {"retention.ms": str(settings.dead_letter_retention_ms), "cleanup.policy": "delete"},
            dead_letters=True,
        )
        for topic in (*INBOUND_TOPICS, *CONSUMED_EVENTS)
    ]
    return topics + dead_letters


def admin_client(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, **aiokafka_options(settings))


async def create_topics(settings: Settings) -> CreatedTopics:
    """Creates the plan's missing topics. A topic another replica created meanwhile counts as
    existing; any other refusal by the broker (a config it rejects, too few brokers for the
    replication factor, no permission) is raised, not swallowed."""
    plan = topic_plan(settings)
    admin = admin_client(settings)
    await admin.start()
    try:
        present = set(await admin.list_topics())
        existing = [spec.name for spec in plan if spec.name in present]
        missing = [spec for spec in plan if spec.name not in present]
        if not missing:
            return CreatedTopics(created=[], existing=existing)
        response = await admin.create_topics([spec.new_topic() for spec in missing])
        created = []
        for name, error_code, error_message in _topic_errors(response):
            if error_code == 0:
                created.append(name)
            elif error_code == TopicAlreadyExistsError.errno:
                existing.append(name)
            else:
                error = for_code(error_code)
                raise error(f"creating topic {name}: {error_message or error.description}")
        await _until_visible(admin, created)
        return CreatedTopics(created=created, existing=existing)
    finally:
        await admin.close()


async def _until_visible(admin: AIOKafkaAdminClient, names: list[str], timeout: float = 30.0) -> None:
    """Apache Kafka answers CreateTopics once its controller has the topics; the broker asked next
    may still report them without partitions for a moment (Tansu never does). Created means usable:
    wait until the metadata shows each with its partitions, each with a leader."""
    deadline = asyncio.get_running_loop().time() + timeout
    while names:
        described = await admin.describe_topics(names)
        names = [
            topic["topic"] for topic in described
            if topic["error_code"] or not topic["partitions"] or any(p["leader"] < 0 for p in topic["partitions"])
        ]
        if names and asyncio.get_running_loop().time() > deadline:
            raise KafkaTimeoutError(f"created topics not in the metadata after {timeout}s: {', '.join(names)}")
        if names:
            await asyncio.sleep(0.05)


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    """(topic, error code, message) from any version of CreateTopicsResponse: v0 has no message."""
    return [
        (str(entry[0]), int(entry[1]), str(entry[2]) if len(entry) > 2 and entry[2] else None)  # noqa: PLR2004
        for entry in response.topic_errors  # type: ignore[attr-defined]
    ]


async def ensure_topics(settings: Settings) -> None:
    """At a worker's start: the same plan as `giftcert topics create`."""
    result = await create_topics(settings)
    if result.created:
        log.info("created topics: %s", ", ".join(result.created))
