"""The inbox in memory (giftcert.store.inbox): one row per (consumer, workspace, key). The reply
is kept as the JSON the real one stores, so a repeat rebuilds it exactly as the real one does."""

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any
from uuid import uuid4

from giftcert.messaging.inbox import InboxKey, rebuilt_reply, stored_form
from giftcert_contracts.outbound import Event
from tests.fakes.state import InboxRow, Transaction, as_stored


class FakeInboxRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def claim(self, key: InboxKey, now: datetime) -> bool:
        """True when this unit of work is the first to handle `key`."""
        return key in await self.claim_many([key], now)

    async def claim_many(self, keys: Iterable[InboxKey], now: datetime) -> set[InboxKey]:
        rows = self._tx.state.inbox
        claimed = set()
        for key in sorted(set(keys)):
            if key not in rows:
                rows[key] = as_stored(InboxRow(handled_at=now))
                claimed.add(key)
        return claimed

    async def remember_reply(self, key: InboxKey, reply: Event) -> None:
        await self.remember_replies([(key, reply)])

    async def remember_replies(self, replies: Collection[tuple[InboxKey, Event]]) -> None:
        rows = self._tx.state.inbox
        for key, reply in replies:
            if key in rows:  # else an UPDATE that matches no row
                stored = json.loads(json.dumps(stored_form(reply)))
                rows[key] = InboxRow(rows[key].handled_at, reply.topic.value, stored)

    async def stored_reply(self, key: InboxKey, *, event_id: Any, occurred_at: datetime) -> Event | None:
        """The reply given the first time, as a new event (fresh id and time), or None."""
        stored = (await self.stored_replies([key], occurred_at=occurred_at)).get(key)
        return None if stored is None else stored.model_copy(update={"event_id": event_id})

    async def stored_replies(self, keys: Collection[InboxKey], *, occurred_at: datetime) -> dict[InboxKey, Event]:
        found = {}
        for key in keys:
            row = self._tx.state.inbox.get(key)
            if row is not None and row.reply_topic is not None and row.reply is not None:
                found[key] = rebuilt_reply(row.reply_topic, row.reply, event_id=uuid4(), occurred_at=occurred_at)
        return found
