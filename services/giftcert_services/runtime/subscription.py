"""The ways a giftcert service subscribes: manual acknowledgement (commit after the database
commit, see consumption.py), earliest offset for a new group, a group per service and topic, and
a rebalance listener that tells the readiness probe what the group assigned (membership.py).

`subscribe_batch` hands its handler up to `GIFTCERT_CONSUMER_BATCH_SIZE` messages at a time (what one
poll of the topic's assigned partitions returned; fewer when fewer are waiting, never waiting to fill
a batch); the handler decides them in one transaction."""

from collections.abc import Callable
from typing import Any

from faststream.kafka import KafkaRouter
from faststream.middlewares import AckPolicy
from pydantic import BaseModel

from giftcert_contracts.topics import Topic
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.decoding import batch_decoder, decode_json, parse_batch_leniently, parse_leniently

MAX_POLL_INTERVAL_MS = 600_000
"""A handler (or a batch) may take this long before the group considers the consumer gone."""


def _common(deps: Dependencies, service: str, topic: Topic, title: str) -> dict[str, Any]:
    settings = deps.settings
    group_id = settings.group_id(service, topic)
    return {
        "group_id": group_id,
        "listener": deps.memberships.listener(group_id),
        "ack_policy": AckPolicy.MANUAL,
        "auto_offset_reset": "earliest",
        "title": title,
        "max_poll_interval_ms": MAX_POLL_INTERVAL_MS,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
    }


def subscribe(
    router: KafkaRouter, deps: Dependencies, service: str, topic: Topic, *, title: str
) -> Callable[[Callable[..., Any]], Any]:
    return router.subscriber(  # type: ignore[no-any-return]
        deps.settings.topic(topic), parser=parse_leniently, decoder=decode_json,
        **_common(deps, service, topic, title),
    )


def subscribe_batch(
    router: KafkaRouter, deps: Dependencies, service: str, topic: Topic, *, title: str, model: type[BaseModel],
    max_records: int | None = None,
) -> Callable[[Callable[..., Any]], Any]:
    """`max_records`: at most this many at a time (default GIFTCERT_CONSUMER_BATCH_SIZE)."""
    return router.subscriber(  # type: ignore[no-any-return]
        deps.settings.topic(topic), batch=True, max_records=max_records or deps.settings.consumer_batch_size,
        batch_timeout_ms=deps.settings.consumer_batch_wait_ms, parser=parse_batch_leniently,
        decoder=batch_decoder(model), **_common(deps, service, topic, title),
    )
