"""The inbox: one row per (consumer, workspace, idempotency key), inserted in the same transaction
as the message's effects. A key already present means the message was handled; its stored reply,
if any, is what a repeat publishes again (with a new event id).

A batch claims its keys in one statement, in key order, so two transactions claiming overlapping
batches wait for each other in the same order and never deadlock; a key another transaction holds
makes this one wait until it ends, then count as handled."""

import json
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.messaging.inbox import InboxKey, rebuilt_reply, stored_form
from giftcert.store.bulk import Writes, columns, insert_rows, rows_of, value_of
from giftcert.store.schema import inbox
from giftcert_contracts.outbound import Event

_KEY = ("consumer", "workspace_id", "key")
_CLAIM = insert_rows(inbox, (*_KEY, "handled_at"), "ON CONFLICT DO NOTHING RETURNING consumer, workspace_id, key")
_MATCH = " AND ".join(f"inbox.{n} = v.{n}" for n in _KEY)
_REMEMBER = text(
    f"UPDATE inbox SET reply_topic = v.reply_topic, reply = {value_of(inbox, 'reply')} "  # noqa: S608 - names from the schema; values are bound
    f"FROM {rows_of(inbox, (*_KEY, 'reply_topic', 'reply'))} WHERE {_MATCH}"
)
_STORED = text(
    f"SELECT inbox.consumer, inbox.workspace_id, inbox.key, inbox.reply_topic, inbox.reply "  # noqa: S608 - names from the schema; values are bound
    f"FROM inbox JOIN {rows_of(inbox, _KEY)} ON {_MATCH}"
)


class InboxRepository:
    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._connection = connection
        self._writes = writes or Writes(connection)

    async def claim(self, key: InboxKey, now: datetime) -> bool:
        """True when this transaction is the first to handle `key`."""
        return key in await self.claim_many([key], now)

    async def claim_many(self, keys: Iterable[InboxKey], now: datetime) -> set[InboxKey]:
        """The keys this transaction is the first to handle."""
        ordered = sorted(set(keys))
        if not ordered:
            return set()
        arrays = columns(((k.consumer, k.workspace_id, k.key, now) for k in ordered), (*_KEY, "handled_at"))
        return {InboxKey(*row) for row in await self._connection.execute(_CLAIM, arrays)}

    async def remember_reply(self, key: InboxKey, reply: Event) -> None:
        await self.remember_replies([(key, reply)])

    async def remember_replies(self, replies: Collection[tuple[InboxKey, Event]]) -> None:
        if not replies:
            return
        rows = (
            (k.consumer, k.workspace_id, k.key, r.topic.value, json.dumps(stored_form(r))) for k, r in replies
        )
        await self._writes.execute(_REMEMBER, columns(rows, (*_KEY, "reply_topic", "reply")))

    async def stored_reply(self, key: InboxKey, *, event_id: Any, occurred_at: datetime) -> Event | None:
        """The reply given the first time, as a new event (fresh id and time), or None."""
        stored = (await self.stored_replies([key], occurred_at=occurred_at)).get(key)
        return None if stored is None else stored.model_copy(update={"event_id": event_id})

    async def stored_replies(self, keys: Collection[InboxKey], *, occurred_at: datetime) -> dict[InboxKey, Event]:
        """The replies given the first time to those of `keys` that have one, each as a new event
        (a fresh id, the time `occurred_at`)."""
        if not keys:
            return {}
        arrays = columns(((k.consumer, k.workspace_id, k.key) for k in keys), _KEY)
        return {
            InboxKey(row.consumer, row.workspace_id, row.key): rebuilt_reply(
                row.reply_topic, row.reply, event_id=uuid4(), occurred_at=occurred_at
            )
            for row in await self._connection.execute(_STORED, arrays)
            if row.reply_topic is not None
        }
