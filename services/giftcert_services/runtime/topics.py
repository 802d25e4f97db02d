"""Creates every topic the service reads or writes, with its dead-letter topic, when it starts.
Topics that exist already are left as they are."""

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from giftcert.settings import Settings
from giftcert_contracts.topics import INBOUND_TOPICS, Topic

log = logging.getLogger("giftcert.topics")

CONSUMED_EVENTS = (Topic.CERTIFICATE_ACTIVATED, Topic.PDF_READY)


def topic_names(settings: Settings) -> list[str]:
    names = [settings.topic(t) for t in Topic]
    names += [settings.dead_letter_topic(t) for t in (*INBOUND_TOPICS, *CONSUMED_EVENTS)]
    return names


async def ensure_topics(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in topic_names(settings) if name not in existing]
        if not missing:
            return
        new = [
            NewTopic(name, settings.topic_partitions, settings.topic_replication_factor)
            for name in missing
        ]
        with contextlib.suppress(TopicAlreadyExistsError):  # another replica created them first
            await admin.create_topics(new)
        log.info("created topics: %s", ", ".join(missing))
    finally:
        await admin.close()
