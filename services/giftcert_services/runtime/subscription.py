"""The one way a giftcert service subscribes: manual acknowledgement (commit after the database
commit, see consumption.py), earliest offset for a new group, a group per service and topic, and
a rebalance listener that tells the readiness probe what the group assigned (membership.py)."""

from collections.abc import Callable
from typing import Any

from faststream.kafka import KafkaRouter
from faststream.middlewares import AckPolicy

from giftcert_contracts.topics import Topic
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.consumption import decode_json, parse_leniently


def subscribe(
    router: KafkaRouter, deps: Dependencies, service: str, topic: Topic, *, title: str
) -> Callable[[Callable[..., Any]], Any]:
    settings = deps.settings
    group_id = settings.group_id(service, topic)
    return router.subscriber(
        settings.topic(topic),
        group_id=group_id,
        listener=deps.memberships.listener(group_id),
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        parser=parse_leniently,
        decoder=decode_json,
        title=title,
        max_poll_interval_ms=600_000,
    )
