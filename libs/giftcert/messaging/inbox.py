"""The inbox: one row per (consumer, workspace, idempotency key), inserted in the same transaction
as the message's effects. A key already present means the message was handled; its stored reply,
if any, is what a repeat publishes again (with a new event id).

A batch claims its keys in one statement, in key order, so two transactions claiming overlapping
batches wait for each other in the same order and never deadlock; a key another transaction holds
makes this one wait until it ends, then count as handled."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.store.schema import inbox
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


_CLAIM = insert(inbox).on_conflict_do_nothing().returning(inbox.c.consumer, inbox.c.workspace_id, inbox.c.key)


class InboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(self, key: InboxKey, now: datetime) -> bool:
        """True when this transaction is the first to handle `key`."""
        return key in await self.claim_many([key], now)

    async def claim_many(self, keys: Iterable[InboxKey], now: datetime) -> set[InboxKey]:
        """The keys this transaction is the first to handle."""
        ordered = sorted(set(keys))
        if not ordered:
            return set()
        rows = [
            {"consumer": k.consumer, "workspace_id": k.workspace_id, "key": k.key, "handled_at": now} for k in ordered
        ]
        return {InboxKey(*row) for row in await self._connection.execute(_CLAIM, rows)}

    async def remember_reply(self, key: InboxKey, reply: Event) -> None:
        await self.remember_replies([(key, reply)])

    async def remember_replies(self, replies: Collection[tuple[InboxKey, Event]]) -> None:
        if not replies:
            return
        statement = (
            update(inbox)
            .where(
                inbox.c.consumer == bindparam("b_consumer"),
                inbox.c.workspace_id == bindparam("b_workspace_id"),
                inbox.c.key == bindparam("b_key"),
            )
            .values(reply_topic=bindparam("b_reply_topic"), reply=bindparam("b_reply", type_=inbox.c.reply.type))
        )
        await self._connection.execute(
            statement,
            [
                {"b_consumer": k.consumer, "b_workspace_id": k.workspace_id, "b_key": k.key,
                 "b_reply_topic": r.topic.value, "b_reply": stored_form(r)}
                for k, r in replies
            ],
        )

    async def stored_reply(self, key: InboxKey, *, event_id: Any, occurred_at: datetime) -> Event | None:
        """The reply given the first time, as a new event (fresh id and time), or None."""
        stored = (await self.stored_replies([key], occurred_at=occurred_at)).get(key)
        return None if stored is None else stored.model_copy(update={"event_id": event_id})

    async def stored_replies(self, keys: Collection[InboxKey], *, occurred_at: datetime) -> dict[InboxKey, Event]:
        """The replies given the first time to those of `keys` that have one, each as a new event
        (a fresh id, the time `occurred_at`)."""
        if not keys:
            return {}
        query = select(inbox.c.consumer, inbox.c.workspace_id, inbox.c.key, inbox.c.reply_topic, inbox.c.reply).where(
            tuple_(inbox.c.consumer, inbox.c.workspace_id, inbox.c.key).in_(
                [(k.consumer, k.workspace_id, k.key) for k in keys]
            )
        )
        return {
            InboxKey(row.consumer, row.workspace_id, row.key): rebuilt_reply(
                row.reply_topic, row.reply, event_id=uuid4(), occurred_at=occurred_at
            )
            for row in await self._connection.execute(query)
            if row.reply_topic is not None
        }
