"""The Kafka broker client every service shares. Producers wait for all in-sync replicas
(`acks=all`); idempotence stays off because Tansu, our embedded broker, cannot do it, and the
outbox plus the consumers' inboxes already make duplicates harmless."""

from faststream.kafka import KafkaBroker

from giftcert.settings import Settings
from giftcert_services.runtime.consumption import reliable_consumption


def build_broker(settings: Settings) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        acks=settings.kafka_acks,  # type: ignore[arg-type]
        enable_idempotence=False,
        graceful_timeout=settings.graceful_timeout_seconds,
        middlewares=[reliable_consumption(settings)],
        client_id="giftcert",
    )
