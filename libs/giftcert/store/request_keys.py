"""The request keys' statements (what they mean: giftcert.messaging.request_keys). Binding is an
insert on the primary key, so of two requests racing with one key exactly one binds it and the
other waits for it, then is compared with it. A ledger batch binds the keys of the requests it
decides (`RequestKeyRepository.bind_all`) in one statement, held with its other writes; a key bound
already (by the HTTP door, before it asked the ledger) stays as it is."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.messaging.request_keys import Answer, Bound, IdempotencyKeyReusedError, RequestKey
from giftcert.store.bulk import Writes, columns, insert_rows
from giftcert.store.schema import request_keys

_BINDING = ("workspace_id", "operation", "key", "fingerprint", "first_seen_at")
_BIND_ALL = insert_rows(request_keys, _BINDING, "ON CONFLICT DO NOTHING")


def _row_of(key: RequestKey) -> Any:
    c = request_keys.c
    return (c.workspace_id == key.workspace_id) & (c.operation == key.operation) & (c.key == key.key)


async def bind(connection: AsyncConnection, key: RequestKey, now: datetime) -> Bound:
    """Binds the key to this request, or compares it with the one it is bound to; raises
    IdempotencyKeyReusedError when that one differs."""
    claim = (
        insert(request_keys)
        .values(workspace_id=key.workspace_id, operation=key.operation, key=key.key,
                fingerprint=key.fingerprint, first_seen_at=now)
        .on_conflict_do_nothing()
        .returning(request_keys.c.key)
    )
    if (await connection.execute(claim)).first() is not None:
        return Bound(first=True)
    c = request_keys.c
    row = (await connection.execute(select(c.fingerprint, c.answer_status, c.answer).where(_row_of(key)))).one()
    if row.fingerprint != key.fingerprint:
        raise IdempotencyKeyReusedError(key)
    answer = None if row.answer_status is None else Answer(row.answer_status, row.answer)
    return Bound(first=False, answer=answer)


async def remember_answer(connection: AsyncConnection, key: RequestKey, answer: Answer) -> None:
    await connection.execute(
        update(request_keys).where(_row_of(key)).values(answer_status=answer.status, answer=answer.body)
    )


async def forget(connection: AsyncConnection, key: RequestKey) -> None:
    """Unbinds the key, if it is still bound to this very request (a binding made in error)."""
    await connection.execute(
        delete(request_keys).where(_row_of(key) & (request_keys.c.fingerprint == key.fingerprint))
    )


class RequestKeyRepository:
    """The request keys as a handler's unit of work writes them (giftcert.ports.RequestKeys)."""

    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._writes = writes or Writes(connection)

    async def bind_all(self, keys: Collection[RequestKey], now: datetime) -> None:
        """Binds each key not bound yet to its request (in key order); a bound key is left as it is."""
        if not keys:
            return
        ordered = sorted(keys, key=lambda k: (k.workspace_id, k.operation, k.key))
        rows = ((k.workspace_id, k.operation, k.key, k.fingerprint, now) for k in ordered)
        await self._writes.execute(_BIND_ALL, columns(rows, _BINDING))
