"""Requests that get exactly one decision. The first delivery of a key decides and stores the reply
with the inbox row; every repeat publishes that same reply again under a new event id."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from giftcert.clock import Clock
from giftcert.messaging.inbox import InboxKey
from giftcert.store.unit_of_work import UnitOfWork
from giftcert_contracts.outbound import Event

Decide = Callable[[UnitOfWork, datetime], Awaitable[Event]]
FollowUp = Callable[[UnitOfWork, datetime, Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Decided:
    reply: Event
    first: bool
    """False when the key had been decided before and `reply` is that decision again."""


async def decide_once(
    uow: UnitOfWork, key: InboxKey, clock: Clock, decide: Decide, follow_up: FollowUp | None = None
) -> Decided:
    """`follow_up`, when given, runs once after the first decision's reply is in the outbox, in the
    same transaction (its events follow the reply); a repeat only republishes the reply."""
    async with uow:
        now = clock.now()
        first = await uow.inbox.claim(key, now)
        if first:
            reply = await decide(uow, now)
            await uow.inbox.remember_reply(key, reply)
            await uow.outbox.add(reply)
            if follow_up is not None:
                await follow_up(uow, now, reply)
        else:
            stored = await uow.inbox.stored_reply(key, event_id=uuid4(), occurred_at=now)
            if stored is None:
                raise RuntimeError(f"inbox key {key} was handled but has no stored reply")
            reply = stored
            await uow.outbox.add(reply)
        await uow.commit()
    return Decided(reply, first)


def new_event_fields(workspace_id: str, now: datetime) -> dict[str, object]:
    return {"workspace_id": workspace_id, "event_id": uuid4(), "occurred_at": now}
