"""The inbox in memory (giftcert.messaging.inbox): one row per (consumer, workspace, key). The reply
is kept as the JSON the real one stores, so a repeat rebuilds it exactly as the real one does."""

import json
from datetime import datetime
from typing import Any

from giftcert.messaging.inbox import InboxKey
from giftcert_contracts.outbound import EVENT_TYPE_BY_TOPIC, Event
from giftcert_contracts.topics import Topic
from tests.fakes.state import InboxRow, Transaction, as_stored


class FakeInboxRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def claim(self, key: InboxKey, now: datetime) -> bool:
        """True when this unit of work is the first to handle `key`."""
        rows = self._tx.state.inbox
        if key in rows:
            return False
        rows[key] = as_stored(InboxRow(handled_at=now))
        return True

    async def remember_reply(self, key: InboxKey, reply: Event) -> None:
        rows = self._tx.state.inbox
        if key not in rows:  # an UPDATE that matches no row
            return
        payload = reply.model_dump(mode="json", exclude={"event_id", "occurred_at"})
        rows[key] = InboxRow(rows[key].handled_at, reply.topic.value, json.loads(json.dumps(payload)))

    async def stored_reply(self, key: InboxKey, *, event_id: Any, occurred_at: datetime) -> Event | None:
        """The reply given the first time, as a new event (fresh id and time), or None."""
        row = self._tx.state.inbox.get(key)
        if row is None or row.reply_topic is None or row.reply is None:
            return None
        event_type = EVENT_TYPE_BY_TOPIC[Topic(row.reply_topic)]
        return event_type.model_validate({**row.reply, "event_id": event_id, "occurred_at": occurred_at})
