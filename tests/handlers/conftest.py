"""The handler contract suite runs every test twice: on the in-memory fake store (tests/fakes) and on
the real one (PostgreSQL, a migrated database of the suite's own: no relay of another suite empties its
outbox). Tests share it, so each works in a workspace of its own and reads only its own outbox rows."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.ports import NewUnitOfWork
from giftcert.store.schema import outbox as outbox_table
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import EVENT_TYPE_BY_TOPIC, Event
from giftcert_contracts.topics import Topic
from tests.databases import migrated_database_url
from tests.fakes import FakeUnitOfWorkFactory, FixedClock, OutboxRecord

EVENT_SOURCE = "urn:test"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def handlers_database_url(postgres_server_url: str) -> str:
    return migrated_database_url(postgres_server_url, "handlers")


@pytest.fixture(scope="session")
async def postgres_uow_factory(handlers_database_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    engine = create_async_engine(handlers_database_url)
    yield UnitOfWorkFactory(engine, event_source=EVENT_SOURCE)
    await engine.dispose()


@pytest.fixture(params=["fake", pytest.param("postgres", marks=pytest.mark.integration)])
def new_uow(request: pytest.FixtureRequest) -> NewUnitOfWork:
    """What the ledger's handlers are given: a callable making one unit of work per transaction."""
    if request.param == "fake":
        return FakeUnitOfWorkFactory(event_source=EVENT_SOURCE)  # mypy: the fake is a giftcert.ports.UnitOfWork
    postgres: UnitOfWorkFactory = request.getfixturevalue("postgres_uow_factory")
    return postgres


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


class Outbox:
    """The events a backend's outbox holds for one workspace, oldest first, whichever the backend."""

    def __init__(self, new_uow: NewUnitOfWork) -> None:
        self._new_uow = new_uow
        self._seen: dict[str, int] = {}

    async def records(self, workspace_id: str) -> list[OutboxRecord]:
        if isinstance(self._new_uow, FakeUnitOfWorkFactory):
            return [r for r in self._new_uow.store.outbox if r.event.workspace_id == workspace_id]
        if isinstance(self._new_uow, UnitOfWorkFactory):
            return await _stored_records(self._new_uow.engine, workspace_id)
        raise TypeError(f"no outbox to read in {self._new_uow!r}")

    async def events(self, workspace_id: str) -> list[Event]:
        """The events as the handlers made them: without the `sequence` the outbox gave them (a
        handler does not know it; `sequences` reads it)."""
        return [r.event.model_copy(update={"sequence": None}) for r in await self.records(workspace_id)]

    async def sequences(self, workspace_id: str) -> list[tuple[Topic, UUID | None, int | None]]:
        """Each event's topic, certificate and `sequence`, in the order written."""
        return [(r.topic, r.event.subject, r.event.sequence) for r in await self.records(workspace_id)]

    async def fresh(self, workspace_id: str) -> list[Event]:
        """The events written since the previous call for this workspace."""
        events = await self.events(workspace_id)
        seen, self._seen[workspace_id] = self._seen.get(workspace_id, 0), len(events)
        return events[seen:]


async def _stored_records(engine: AsyncEngine, workspace_id: str) -> list[OutboxRecord]:
    query = (
        select(outbox_table.c.topic, outbox_table.c.key, outbox_table.c.headers, outbox_table.c.payload)
        .where(text("convert_from(outbox.payload, 'UTF8')::jsonb ->> 'workspace_id' = :workspace"))
        .order_by(outbox_table.c.id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query, {"workspace": workspace_id})).all()
    return [
        OutboxRecord(
            topic=Topic(row.topic),
            key=row.key,
            headers=row.headers,
            event=EVENT_TYPE_BY_TOPIC[Topic(row.topic)].model_validate_json(bytes(row.payload)),
        )
        for row in rows
    ]


@pytest.fixture
def outbox(new_uow: NewUnitOfWork) -> Outbox:
    return Outbox(new_uow)


@pytest.fixture
async def shop(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> str:
    """A workspace of this test's own, selling on the portal in EUR."""
    from tests.handlers.steps import configure  # noqa: PLC0415 - steps imports this module's types

    await configure(new_uow, clock, workspace)
    return workspace
