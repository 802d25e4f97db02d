"""What the inbox keeps, whatever stores it (store/inbox.py in PostgreSQL): one key per (consumer,
workspace, idempotency key), and with it the reply given the first time, without the fields a repeat
gets anew (a fresh event id and time)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from giftcert_contracts.outbound import EVENT_TYPE_BY_TOPIC, Event
from giftcert_contracts.topics import Topic


@dataclass(frozen=True, slots=True, order=True)
class InboxKey:
    consumer: str
    workspace_id: str
    key: str


def stored_form(reply: Event) -> dict[str, Any]:
    """The reply as the inbox keeps it: without the fields a repeat gets anew."""
    payload: dict[str, Any] = reply.model_dump(mode="json", exclude={"event_id", "occurred_at"})
    return payload


def rebuilt_reply(topic: str, payload: dict[str, Any], *, event_id: Any, occurred_at: datetime) -> Event:
    event_type = EVENT_TYPE_BY_TOPIC[Topic(topic)]
    return event_type.model_validate({**payload, "event_id": event_id, "occurred_at": occurred_at})
