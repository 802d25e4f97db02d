"""What the outbox holds, whatever stores it (store/outbox.py in PostgreSQL): an event's row as the
relay publishes it, its Kafka key, and the lanes the relay reads it in."""

from dataclasses import dataclass
from enum import Enum

from giftcert_contracts.outbound import Event
from giftcert_contracts.topics import Topic


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    topic: Topic
    key: str
    headers: dict[str, str]
    payload: bytes


def kafka_key(event: Event, fallback: str) -> str:
    """The certificate id where there is one, else the request's id."""
    subject = event.subject
    return str(subject) if subject is not None else fallback


class Lane(Enum):
    """Which rows a relay loop claims. The answers a customer waits for at checkout have a lane of
    their own, so they never queue behind a bulk of other events (an expiry tick writes one per
    certificate it expires). Within a lane rows go out in commit order; across lanes, that is across
    topics, there is no order to keep: Kafka orders a key's records within one topic only."""

    CHECKOUT_REPLIES = "checkout replies"
    EVENTS = "events"
