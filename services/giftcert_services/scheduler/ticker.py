"""The built-in scheduler: every `expiry_tick_seconds`, one expiry-tick per workspace.

With several replicas only one ticks: the one holding a PostgreSQL session-level advisory lock on a
connection it keeps open. If that process dies, its connection closes, the lock is released and
another replica takes over at its next attempt. Any cron that publishes expiry-tick works as well:
`giftcert tick` (cli/tick.py) publishes the same ticks once, through `publish_expiry_ticks`."""

import asyncio
import logging
from uuid import uuid4

from faststream.kafka import KafkaBroker
from faststream.kafka.publisher import DefaultPublisher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.store.workspaces import WorkspaceRepository
from giftcert_contracts.inbound import CheckExpiries
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.bootstrap import Dependencies

log = logging.getLogger("giftcert.scheduler")

ADVISORY_LOCK_KEY = 0x6769667463657274  # "giftcert"


def tick_publisher(broker: KafkaBroker, deps: Dependencies) -> DefaultPublisher:
    return broker.publisher(
        deps.settings.topic(Topic.EXPIRY_TICK), title="scheduler: expiry-tick", schema=CheckExpiries
    )


async def publish_expiry_ticks(deps: Dependencies, publisher: DefaultPublisher) -> int:
    """One expiry-tick per workspace, all with the same `now` and each with a new tick_id; returns how
    many. Keyed by workspace, so a workspace's ticks stay in order on one partition."""
    async with deps.engine.connect() as connection:
        workspace_ids = await WorkspaceRepository(connection).all_ids()
    now = deps.clock.now()
    for workspace_id in workspace_ids:
        tick = CheckExpiries(workspace_id=workspace_id, tick_id=uuid4(), now=now)
        await publisher.publish(tick.model_dump(mode="json"), key=workspace_id.encode())
    return len(workspace_ids)


class ExpiryScheduler:
    def __init__(self, deps: Dependencies, publisher: DefaultPublisher) -> None:
        self._deps = deps
        self._publisher = publisher
        self._lock_connection: AsyncConnection | None = None

    async def _holds_lock(self) -> bool:
        if self._lock_connection is not None and not self._lock_connection.closed:
            return True
        connection = await self._deps.engine.connect()
        got = (await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})).scalar()
        await connection.commit()
        if got:
            self._lock_connection = connection
            return True
        await connection.close()
        return False

    async def tick(self) -> int:
        """Publishes one tick per workspace if this replica holds the lock; returns how many."""
        if not await self._holds_lock():
            return 0
        return await publish_expiry_ticks(self._deps, self._publisher)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("expiry tick failed; the next one will try again")
                if self._lock_connection is not None:
                    await self._lock_connection.close()
                    self._lock_connection = None
            await asyncio.sleep(self._deps.settings.expiry_tick_seconds)

    async def close(self) -> None:
        if self._lock_connection is not None:
            await self._lock_connection.close()
