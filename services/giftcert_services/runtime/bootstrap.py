"""Builds what handlers need, once per process: settings, the database engine, the unit-of-work
factory, the clock, the consumer group memberships its subscribers report to (runtime/
membership.py) and, when the process traces, its tracer provider (None: tracing off, see
tracing.py). Tests build their own with other settings, a fixed clock or an in-memory exporter."""

from dataclasses import dataclass, field

from opentelemetry.trace import TracerProvider
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
    tracer_provider: TracerProvider | None = None
    memberships: GroupMemberships = field(default_factory=GroupMemberships)

    async def close(self) -> None:
        await self.engine.dispose()
        shutdown = getattr(self.tracer_provider, "shutdown", None)  # the SDK's: flushes the batched spans
        if shutdown is not None:
            shutdown()


def create_engine(settings: Settings, *, pre_ping: bool = True) -> AsyncEngine:
    """`hide_parameters`: a database error's message (logged, and a dead letter's error_detail) names
    the statement but never its values, which may be a redemption code or a customer's address.
    `pre_ping`: a round trip before each transaction to find connections the server dropped; the
    workers go without it (a dropped connection fails their transaction, which is retried like any
    transient fault, and the pool is renewed), the HTTP API and the commands keep it."""
    return create_async_engine(
        settings.database_url,
        hide_parameters=True,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
    )


def bootstrap(
    settings: Settings, clock: Clock | None = None, *, tracer_provider: TracerProvider | None = None,
    pre_ping: bool = True,
) -> Dependencies:
    engine = create_engine(settings, pre_ping=pre_ping)
    return Dependencies(
        settings=settings,
        engine=engine,
        new_uow=UnitOfWorkFactory(engine, event_source=settings.event_source),
        clock=clock or SystemClock(),
        tracer_provider=tracer_provider,
    )
