"""The transactional outbox. `OutboxWriter.add` inserts through the caller's connection and never
commits: an event row exists if and only if the change it reports was committed. Only the relay
reads rows, publishes them and deletes what the broker acknowledged. A row's headers are the event's
CloudEvents headers plus the trace context of the span that wrote it, if any (trace_context.py)."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, any_, bindparam, delete, func, not_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.messaging.outbox import Lane, OutboxRow, kafka_key
from giftcert.messaging.trace_context import current_trace_headers
from giftcert.store.bulk import Writes, columns, insert_rows
from giftcert.store.schema import OUTBOX_CHECKOUT_REPLY, outbox
from giftcert_contracts.cloudevents import cloudevent_headers
from giftcert_contracts.outbound import Event
from giftcert_contracts.topics import Topic

_COLUMNS = ("topic", "key", "headers", "payload", "created_at")
_ADD = insert_rows(outbox, _COLUMNS)


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
        rows = (
            (
                event.topic.value,
                kafka_key(event, key or str(getattr(event, "request_id", event.event_id))),
                json.dumps(cloudevent_headers(event, source=self._source) | dict(trace)),
                event.model_dump_json().encode(),
                event.occurred_at,
            )
            for event, trace in zip(events, traces, strict=True)
        )
        await self._writes.execute(_ADD, columns(rows, _COLUMNS))


_DELETE = delete(outbox).where(outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
"""One statement whatever the count (an `IN` list is compiled anew for each length)."""


def _rows_of(lane: Lane) -> ColumnElement[bool]:
    return OUTBOX_CHECKOUT_REPLY if lane is Lane.CHECKOUT_REPLIES else not_(OUTBOX_CHECKOUT_REPLY)


class OutboxReader:
    """The relay's side: claim a lane's oldest rows (skipping rows another relay holds), delete them."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(self, limit: int, lane: Lane) -> Sequence[OutboxRow]:
        query = (
            select(outbox).where(_rows_of(lane)).order_by(outbox.c.id).limit(limit).with_for_update(skip_locked=True)
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
