"""The ways a giftcert service subscribes: manual acknowledgement (commit after the database
commit, see consumption.py), earliest offset for a new group, a group per service and topic, and
a rebalance listener that tells the readiness probe what the group assigned (membership.py).

`subscribe_batch` hands its handler up to `GIFTCERT_CONSUMER_BATCH_SIZE` messages at a time (what one
poll of the topic's assigned partitions returned; fewer when fewer are waiting, never waiting to fill
a batch), decoded, with each one's trace context (batch_tracing.py); the handler decides them in one
transaction. Handlers take decoded messages only, never the Kafka message."""

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import BaseModel

from giftcert_contracts.topics import Topic
from giftcert_services.runtime.batch_tracing import Traces, message_traces
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.decoding import batch_decoder, decode_json, parse_batch_leniently, parse_leniently

BatchHandler = Callable[[list[Any], Traces], Awaitable[None]]
"""A batch's valid messages, in arrival order, and their trace contexts aligned with them."""

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
) -> Callable[[BatchHandler], Any]:
    """`max_records`: at most this many at a time (default GIFTCERT_CONSUMER_BATCH_SIZE)."""
    subscriber = router.subscriber(
        deps.settings.topic(topic), batch=True, max_records=max_records or deps.settings.consumer_batch_size,
        batch_timeout_ms=deps.settings.consumer_batch_wait_ms, parser=parse_batch_leniently,
        decoder=batch_decoder(model), **_common(deps, service, topic, title),
    )

    def register(handle: BatchHandler) -> Any:
        async def consume(batch: list[Any], message: KafkaMessage) -> None:
            async with message_traces(deps.tracer_provider, message) as traces:
                await handle(batch, traces)

        consume.__annotations__["batch"] = list[model]  # type: ignore[valid-type] # what FastStream validates
        consume.__name__ = consume.__qualname__ = getattr(handle, "__name__", type(handle).__name__)
        consume.__doc__ = handle.__doc__
        return subscriber(consume)

    return register
