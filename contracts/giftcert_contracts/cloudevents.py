"""CloudEvents 1.0 Kafka binary-mode headers for the events the service publishes."""

from giftcert_contracts.outbound import Event

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


def cloudevent_type(event: type[Event]) -> str:
    return f"giftcert.{event.topic.value}.v1"


def cloudevent_headers(event: Event, *, source: str) -> dict[str, str]:
    """`ce_*` headers for `event`; the body carries the same id as `event_id`."""
    headers = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": str(event.event_id),
        "ce_source": source,
        "ce_type": cloudevent_type(type(event)),
        "ce_time": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "content-type": CONTENT_TYPE,
    }
    if (subject := event.subject) is not None:
        headers["ce_subject"] = str(subject)
    return headers
