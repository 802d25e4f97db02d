"""Builds what handlers need, once per process: settings, the database engine, the unit-of-work
factory and the clock; and the consumer group memberships its subscribers report to (runtime/
membership.py). Tests build their own with other settings or a fixed clock."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.clock import Clock, SystemClock
from giftcert.settings import Settings
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_services.runtime.membership import GroupMemberships


@dataclass
class Dependencies:
    settings: Settings
    engine: AsyncEngine
    new_uow: UnitOfWorkFactory
    clock: Clock = field(default_factory=SystemClock)
    memberships: GroupMemberships = field(default_factory=GroupMemberships)

    async def close(self) -> None:
        await self.engine.dispose()


def create_engine(settings: Settings) -> AsyncEngine:
    """`hide_parameters`: a database error's message (logged, and a dead letter's error_detail) names
    the statement but never its values, which may be a redemption code or a customer's address."""
    return create_async_engine(
        settings.database_url,
        hide_parameters=True,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def bootstrap(settings: Settings, clock: Clock | None = None) -> Dependencies:
    engine = create_engine(settings)
    return Dependencies(
        settings=settings,
        engine=engine,
        new_uow=UnitOfWorkFactory(engine, event_source=settings.event_source),
        clock=clock or SystemClock(),
    )
