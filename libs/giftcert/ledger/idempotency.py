"""Requests that get exactly one decision, in two steps a handler takes inside its own unit of work:
`claim_first` (which requests to decide now) before deciding, `answer` (one reply per request to the
outbox) after. The first delivery of a key decides and its reply is stored with the inbox row; every
repeat publishes that same reply again under a new event id.

A batch gets what one-at-a-time handling in arrival order would give: a key that comes twice in the
batch is decided once, its second copy is a repeat of that decision, and the replies go to the
outbox in arrival order."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import uuid4

from pydantic import BaseModel

from giftcert.messaging.inbox import InboxKey
from giftcert.messaging.request_keys import booking_request_key
from giftcert.ports import UnitOfWork
from giftcert_contracts.outbound import Event
from giftcert_contracts.topics import Topic


async def claim_first(uow: UnitOfWork, keys: Sequence[InboxKey], now: datetime) -> list[int]:
    """The positions of `keys` to decide now, in arrival order: of each key this transaction is the
    first to claim, its first position. Every other position is a repeat."""
    claimed = await uow.inbox.claim_many(keys, now)
    first: dict[InboxKey, int] = {}
    for position, key in enumerate(keys):
        if key in claimed:
            first.setdefault(key, position)
    return sorted(first.values())


async def bind_requests(uow: UnitOfWork, decided: Sequence[BaseModel], topic: Topic, now: datetime) -> None:
    """Binds each booking command decided now to its request's fingerprint (decision 33), as the HTTP
    door does before it asks: the same key with another body over HTTP is then 409 whichever door
    came first. A key already bound keeps its first binding."""
    await uow.request_keys.bind_all([booking_request_key(command, topic) for command in decided], now)


async def answer(
    uow: UnitOfWork,
    keys: Sequence[InboxKey],
    decisions: Mapping[int, Event],
    now: datetime,
    *,
    traces: Sequence[Mapping[str, str]] | None = None,
) -> list[Event]:
    """Stores each decision (by the position `claim_first` gave) with its key, and writes one reply
    per position of `keys` to the outbox, in order: its decision; a copy of it (a new event id) for
    a later position of the same key; for a key decided by an earlier transaction, the reply stored
    then. `traces`: each position's trace context, for its reply (OutboxWriter.add)."""
    await uow.inbox.remember_replies([(keys[p], decision) for p, decision in decisions.items()])
    first_at = {keys[p]: p for p in sorted(decisions, reverse=True)}
    stored = await uow.inbox.stored_replies({k for k in keys if k not in first_at}, occurred_at=now)
    replies: list[Event] = []
    for position, key in enumerate(keys):
        if position in decisions:
            replies.append(decisions[position])
        elif key in first_at:
            replies.append(decisions[first_at[key]].model_copy(update={"event_id": uuid4()}))
        elif key in stored:
            replies.append(stored[key])
        else:
            raise RuntimeError(f"inbox key {key} was handled but has no stored reply")
    await uow.outbox.add(*replies, traces=traces)
    return replies
