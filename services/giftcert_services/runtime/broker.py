"""The Kafka broker client every service shares. Producers wait for all in-sync replicas
(`acks=all`: with `min.insync.replicas=2`, a record acknowledged is on two nodes and survives the
leader's kill -9, tests/e2e/test_broker_faults.py). Idempotence stays off. Apache Kafka, which
production and the tests run, would do it; Tansu, still the demo's broker and the fallback without
Java, refuses it (its InitProducerId answer is UnknownError: no producer starts). Nor would it add
anything: aiokafka sends one batch per partition at a time, so a retry never overtakes a later
record, and a batch written twice (its answer lost in a failover, then retried) is a copy with the
same `event_id`, which consumers drop, as they drop the outbox's at-least-once copies (decision 1).

Its middlewares, outermost first: FastStream's spans (only when the process traces), the message's
log fields (message_context.py), then the reliable consumption (ack after the database commit). So
the retries and dead letters of a message are logged with its fields, inside its span."""

import asyncio
import logging
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.trace import TracerProvider

from giftcert.settings import Settings
from giftcert_services.runtime.consumption import reliable_consumption
from giftcert_services.runtime.kafka_security import faststream_security
from giftcert_services.runtime.message_context import MessageLogContext
from giftcert_services.runtime.tracing import message_spans


class ConcurrentlyStartedKafkaBroker(KafkaBroker):
    """Starts its subscribers side by side instead of one after another.

    Each subscriber is a consumer group of its own, and aiokafka's `start()` waits until the group
    has its partitions; a new group's first join waits out the broker's initial rebalance delay
    (3 s on Apache Kafka, 5 s on Tansu). In sequence, a ledger process with six subscribers took
    30 s to start; side by side it takes one delay. Otherwise this is FastStream 0.7's own start."""

    async def start(self) -> None:
        await self.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in self.subscribers))
        for publisher in self.publishers:
            await publisher.start()
        self.running = True


def bootstrap_servers(settings: Settings) -> list[str]:
    """GIFTCERT_KAFKA_BOOTSTRAP_SERVERS as a list. FastStream hands a string on to aiokafka as a
    list of one, which aiokafka then never splits at its commas: "a:9092,b:9092,c:9092" (compose's,
    k8s's) was tried as one host, and every service failed to start on a cluster."""
    return [server.strip() for server in settings.kafka_bootstrap_servers.split(",") if server.strip()]


def build_broker(
    settings: Settings, *, access_log: bool = True, tracer_provider: TracerProvider | None = None
) -> KafkaBroker:
    """`access_log=False` sends FastStream's per-message lines to the `giftcert.broker` logger, so
    they follow the process's logging level and format (the demo prints events instead; JSON logs
    format them like every other line)."""
    logger = {} if access_log else {"logger": logging.getLogger("giftcert.broker")}
    spans: list[Any] = [] if tracer_provider is None else [message_spans(tracer_provider)]
    return ConcurrentlyStartedKafkaBroker(
        bootstrap_servers(settings),
        acks=settings.producer_acks,
        enable_idempotence=False,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        metadata_max_age_ms=settings.kafka_metadata_max_age_ms,
        graceful_timeout=settings.graceful_timeout_seconds,
        middlewares=[*spans, MessageLogContext, reliable_consumption(settings)],
        client_id="giftcert",
        security=faststream_security(settings),
        **logger,  # type: ignore[arg-type]
    )
