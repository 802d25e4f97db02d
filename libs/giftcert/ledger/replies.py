"""Requests that get exactly one decision. The first delivery of a key decides and stores the reply
with the inbox row; every repeat publishes that same reply again under a new event id.

A batch of requests is decided in one transaction and gets what one-at-a-time handling in arrival
order would give: a key that comes twice in the batch is decided once, and its second copy is a
repeat of that decision; replies go to the outbox in arrival order."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from giftcert.clock import Clock
from giftcert.messaging.inbox import InboxKey
from giftcert.ports import UnitOfWork
from giftcert_contracts.outbound import Event

Decide = Callable[[UnitOfWork, datetime], Awaitable[Event]]
DecideEach = Callable[[UnitOfWork, datetime, Sequence[int]], Awaitable[Sequence[Event]]]
"""Decides the requests at the given positions of the batch, in that order; one reply each."""
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

    async def decide_each(uow: UnitOfWork, now: datetime, positions: Sequence[int]) -> list[Event]:
        return [await decide(uow, now) for _ in positions]

    (decided,) = await decide_each_once(uow, [key], clock, decide_each, follow_up)
    return decided


async def decide_each_once(
    uow: UnitOfWork,
    keys: Sequence[InboxKey],
    clock: Clock,
    decide: DecideEach,
    follow_up: FollowUp | None = None,
    *,
    traces: Sequence[Mapping[str, str]] | None = None,
) -> list[Decided]:
    """One decision per position of `keys`, in one transaction. `traces`, when given: the trace
    context of each position's message, for its reply (OutboxWriter.add)."""
    async with uow:
        now = clock.now()
        claimed = await uow.inbox.claim_many(keys, now)
        first_at: dict[InboxKey, int] = {}
        for position, key in enumerate(keys):
            if key in claimed and key not in first_at:
                first_at[key] = position
        fresh = sorted(first_at.values())
        replies = dict(zip(fresh, await decide(uow, now, fresh), strict=True))
        await uow.inbox.remember_replies([(keys[p], replies[p]) for p in fresh])
        stored = await uow.inbox.stored_replies({k for k in keys if k not in first_at}, occurred_at=now)
        decided: list[Decided] = []
        for position, key in enumerate(keys):
            if first_at.get(key) == position:
                decided.append(Decided(replies[position], first=True))
            elif key in first_at:
                again = replies[first_at[key]].model_copy(update={"event_id": uuid4()})
                decided.append(Decided(again, first=False))
            elif key in stored:
                decided.append(Decided(stored[key], first=False))
            else:
                raise RuntimeError(f"inbox key {key} was handled but has no stored reply")
        if follow_up is None:
            await uow.outbox.add(*(item.reply for item in decided), traces=traces)
        else:
            for item in decided:
                await uow.outbox.add(item.reply)
                if item.first:
                    await follow_up(uow, now, item.reply)
        await uow.commit()
    return decided


def new_event_fields(workspace_id: str, now: datetime) -> dict[str, object]:
    return {"workspace_id": workspace_id, "event_id": uuid4(), "occurred_at": now}
