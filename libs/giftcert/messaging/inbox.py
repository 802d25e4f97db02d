"""The inbox: one row per (consumer, workspace, idempotency key), inserted in the same transaction
as the message's effects. A key already present means the message was handled; its stored reply,
if any, is what a repeat publishes again (with a new event id)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.store.schema import inbox
from giftcert_contracts.outbound import EVENT_TYPE_BY_TOPIC, Event
from giftcert_contracts.topics import Topic


@dataclass(frozen=True, slots=True)
class InboxKey:
    consumer: str
    workspace_id: str
    key: str


class InboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(self, key: InboxKey, now: datetime) -> bool:
        """True when this transaction is the first to handle `key`. A concurrent claim of the same
        key waits for this transaction to end, then sees it as handled."""
        statement = (
            insert(inbox)
            .values(consumer=key.consumer, workspace_id=key.workspace_id, key=key.key, handled_at=now)
            .on_conflict_do_nothing()
            .returning(inbox.c.key)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def remember_reply(self, key: InboxKey, reply: Event) -> None:
        payload: dict[str, Any] = reply.model_dump(mode="json", exclude={"event_id", "occurred_at"})
        await self._connection.execute(
            update(inbox)
            .where(
                inbox.c.consumer == key.consumer,
                inbox.c.workspace_id == key.workspace_id,
                inbox.c.key == key.key,
            )
            .values(reply_topic=reply.topic.value, reply=payload)
        )

    async def stored_reply(self, key: InboxKey, *, event_id: Any, occurred_at: datetime) -> Event | None:
        """The reply given the first time, as a new event (fresh id and time), or None."""
        query = select(inbox.c.reply_topic, inbox.c.reply).where(
            inbox.c.consumer == key.consumer,
            inbox.c.workspace_id == key.workspace_id,
            inbox.c.key == key.key,
        )
        row = (await self._connection.execute(query)).first()
        if row is None or row.reply_topic is None:
            return None
        event_type = EVENT_TYPE_BY_TOPIC[Topic(row.reply_topic)]
        return event_type.model_validate({**row.reply, "event_id": event_id, "occurred_at": occurred_at})
