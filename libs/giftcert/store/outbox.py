"""The transactional outbox. `OutboxWriter.add` inserts through the caller's connection and never
commits: an event row exists if and only if the change it reports was committed. Only the relay
reads rows, publishes them and deletes what the broker acknowledged. A row's headers are the event's
CloudEvents headers plus the trace context of the span that wrote it, if any (trace_context.py)."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, any_, bindparam, delete, func, not_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.messaging.outbox import Lane, OutboxRow, kafka_key
from giftcert.messaging.trace_context import current_trace_headers
from giftcert.store.bulk import Writes, columns, rows_of
from giftcert.store.schema import OUTBOX_CHECKOUT_REPLY, outbox
from giftcert_contracts.cloudevents import cloudevent_headers
from giftcert_contracts.outbound import Event
from giftcert_contracts.topics import Topic

_COLUMNS = ("topic", "key", "headers", "payload", "created_at")
_ARRAYS = rows_of(outbox, _COLUMNS).removesuffix(f") AS v({', '.join(_COLUMNS)})")
_ADD = text(
    "INSERT INTO outbox (topic, key, headers, payload, created_at, sequence)"  # noqa: S608 - names from the schema
    " SELECT v.topic, v.key, CAST(v.headers AS jsonb),"
    " substring(v.payload FROM 1 FOR length(v.payload) - 1)"
    " || convert_to(',\"sequence\":' || coalesce(CAST(v.sequence AS text), 'null') || '}', 'UTF8'),"
    " v.created_at, v.sequence"
    f" FROM {_ARRAYS}, outbox_next_sequences(CAST(:certificate_ids AS uuid[])))"
    f" AS v({', '.join(_COLUMNS)}, sequence)"
)
"""Each event's `sequence` (CONTRACT.md v2) is numbered here and only here: `outbox_next_sequences`
(migration 0010) bumps the counter of every certificate the batch names, in one upsert that locks
it until the commit, so a certificate's numbers follow its commit order and, within a batch, the
order of `events`. The payload is the event without `sequence`, which is then appended as its last
member (a JSON object ends with `}`)."""


class OutboxWriter:
    def __init__(self, connection: AsyncConnection, *, source: str, writes: Writes | None = None) -> None:
        self._connection = connection
        self._source = source
        self._writes = writes or Writes(connection)

    async def add(
        self, *events: Event, key: str | None = None, traces: Sequence[Mapping[str, str]] | None = None
    ) -> None:
        """`traces`: each event's trace context (the message that caused it, in a batch); by default
        the current span's for all. The relay publishes it: the event joins that trace."""
        if not events:
            return
        traces = traces if traces is not None else [current_trace_headers()] * len(events)
        # One event given twice (a batch answering one request delivered twice) is one row: a copy
        # would take the next number, and two bodies would share an event_id.
        once: dict[object, tuple[Event, Mapping[str, str]]] = {}
        for event, trace in zip(events, traces, strict=True):
            once.setdefault(event.event_id, (event, trace))
        events, traces = tuple(e for e, _ in once.values()), [t for _, t in once.values()]
        rows = (
            (
                event.topic.value,
                kafka_key(event, key or str(getattr(event, "request_id", event.event_id))),
                json.dumps(cloudevent_headers(event, source=self._source) | dict(trace)),
                event.model_dump_json(exclude={"sequence"}).encode(),
                event.occurred_at,
            )
            for event, trace in zip(events, traces, strict=True)
        )
        values = columns(rows, _COLUMNS) | {"certificate_ids": [event.subject for event in events]}
        await self._writes.execute(_ADD, values)


_DELETE = delete(outbox).where(outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
"""One statement whatever the count (an `IN` list is compiled anew for each length)."""


def _rows_of(lane: Lane) -> ColumnElement[bool]:
    return OUTBOX_CHECKOUT_REPLY if lane is Lane.CHECKOUT_REPLIES else not_(OUTBOX_CHECKOUT_REPLY)


_LOCK_SEEDS = {Lane.EVENTS: 9, Lane.CHECKOUT_REPLIES: 10}
"""Each lane locks keys in a space of its own (the seed of `hashtextextended`; 7 and 8 are the
redemption failures' and the parked payments'), so the two lanes never wait for each other."""


def _key_is_ours(lane: Lane) -> ColumnElement[bool]:
    """A transaction-scoped lock on the row's key, taken unless another relay holds it: held until
    the claim's commit, so only one relay at a time publishes a key's rows in a lane."""
    return func.pg_try_advisory_xact_lock(func.hashtextextended(outbox.c.key, _LOCK_SEEDS[lane])).is_(True)


class OutboxReader:
    """The relay's side: claim a lane's oldest rows (skipping every row of a key another relay
    holds), delete them."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(self, limit: int, lane: Lane) -> Sequence[OutboxRow]:
        """The lane's oldest `limit` rows whose key no other relay holds, with their keys locked
        until the commit (decision 0025). A key's rows are claimed only by the relay holding it, from
        its oldest unpublished row on: a relay that finds a key held skips all its rows (the holder
        publishes them, or rolls back and leaves them all), and a row committed later for that key
        is newer than every row the holder took (a certificate's rows commit in `sequence` order).
        So a key's events go out in order however many relays run. A claim scans the lane's rows in
        `id` order and stops at `limit`: it locks at most `limit` keys."""
        query = (
            select(outbox)
            .where(_rows_of(lane), _key_is_ours(lane))
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self._connection.execute(query)
        return [
            OutboxRow(
                id=r.id,
                topic=Topic(r.topic),
                key=r.key,
                headers=r.headers if isinstance(r.headers, dict) else json.loads(r.headers),
                payload=bytes(r.payload),
            )
            for r in result
        ]

    async def delete(self, ids: Sequence[int]) -> None:
        await self._connection.execute(_DELETE, {"ids": list(ids)})

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many rows wait, and when the oldest of them was written (None when none waits)."""
        query = select(func.count(), func.min(outbox.c.created_at)).select_from(outbox)
        count, oldest = (await self._connection.execute(query)).one()
        return int(count), oldest
