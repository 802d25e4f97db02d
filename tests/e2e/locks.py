"""Waiting until concurrent transactions really overlap: a test that races two workers is only a race
once both wait for the same row."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND wait_event_type = 'Lock' AND query ILIKE :statement"
)


async def sessions_waiting_for_a_lock(
    db: AsyncEngine, count: int, timeout: float = 60, *, statement: str = "%certificates%"
) -> None:
    """Until `count` other sessions wait for a lock, in a statement like `statement` (by default one
    on a certificates row; "%" for any lock, an order's advisory lock included)."""

    async def waiting() -> None:
        while True:
            async with db.connect() as connection:
                if (await connection.execute(_WAITING, {"statement": statement})).scalar_one() >= count:
                    return
            await asyncio.sleep(0.1)

    await asyncio.wait_for(waiting(), timeout)
