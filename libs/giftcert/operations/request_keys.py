"""The idempotency-key check of every command, whichever door it comes in by (HTTP, CLI): a key
that comes back with another request is refused with `idempotency_key_reused` (a
CommandRefusedError, so each door answers it as it answers any refusal: 409, exit 1, a failed CSV
row) rather than answered with the first request's decision. The rule itself, and what counts as
the same request, is giftcert.messaging.request_keys.

A command the ledger decides binds its key in a transaction of its own just before the ledger
decides (`bind_request_key`): the ledger's inbox keeps the decision, a repeat gets it again. A
command that only writes the database binds its key in its own transaction (`bind_in`) and keeps
its answer on the key's row."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.clock import Clock
from giftcert.messaging.request_keys import Bound, IdempotencyKeyReusedError, RequestKey, fingerprint
from giftcert.operations.errors import CommandRefusedError
from giftcert.store.request_keys import bind
from giftcert.store.unit_of_work import NewPostgresUnitOfWork

KEY_REUSED = "idempotency_key_reused"


def key_of(command: BaseModel, operation: str, key_field: str) -> RequestKey:
    """The request key of a contract command: its workspace, its topic, its key field's value."""
    return RequestKey(
        workspace_id=getattr(command, "workspace_id"),  # noqa: B009 - every contract command has one
        operation=operation,
        key=str(getattr(command, key_field)),
        fingerprint=fingerprint(command, key_field=key_field),
    )


async def bind_in(connection: AsyncConnection, key: RequestKey, now: datetime) -> Bound:
    """Binds `key` in the caller's transaction; CommandRefusedError `idempotency_key_reused` when it
    is bound to another request."""
    try:
        return await bind(connection, key, now)
    except IdempotencyKeyReusedError as reused:
        raise CommandRefusedError(KEY_REUSED, reused.detail) from None


async def bind_request_key(new_uow: NewPostgresUnitOfWork, clock: Clock, key: RequestKey) -> Bound:
    """Binds `key` in a transaction of its own (see bind_in)."""
    async with new_uow() as uow:
        bound = await bind_in(uow.connection, key, clock.now())
        await uow.commit()
    return bound
