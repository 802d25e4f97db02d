"""`giftcert tick`, the CronJob's one-shot scheduler, as a black box through Typer's runner: configured
only by GIFTCERT_* variables, on the real broker and on a database of its own (the session's services
sweep the shared one every few seconds, which would hide whether the command did the work)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from typer.testing import CliRunner

from giftcert.domain.workspace import WorkspaceSettings
from giftcert.ledger.payment import activate_certificate
from giftcert.settings import Settings
from giftcert.store.schema import parked_payments
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert.store.workspaces import WorkspaceRepository
from giftcert_contracts.inbound import CheckExpiries, PaymentCompleted
from giftcert_contracts.topics import Topic
from giftcert_services.cli.main import app
from giftcert_services.integrator.wire import Received, Wire
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.runtime.broker import build_broker
from giftcert_services.runtime.topics import ensure_topics
from giftcert_services.scheduler.ticker import ExpiryScheduler, tick_publisher
from tests.databases import migrated_database_url
from tests.fakes import FixedClock

pytestmark = pytest.mark.integration

PAYMENT_GRACE = timedelta(minutes=10)


@pytest.fixture(scope="module")
def tick_database_url(postgres_server_url: str) -> str:
    return migrated_database_url(postgres_server_url, "tick")


@pytest.fixture(scope="module")
async def tick_db(tick_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(tick_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def settings(tick_database_url: str, kafka_bootstrap_servers: str) -> Settings:
    """Topics of the test's own, so the ticks read back are this run's only."""
    return Settings(
        database_url=tick_database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_prefix=f"tick{uuid4().hex[:8]}.", topic_partitions=2,
        payment_grace_seconds=PAYMENT_GRACE.total_seconds(),
    )


async def giftcert_tick(settings: Settings) -> Result:
    environment = {
        "GIFTCERT_DATABASE_URL": settings.database_url,
        "GIFTCERT_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "GIFTCERT_TOPIC_PREFIX": settings.topic_prefix,
        "GIFTCERT_TOPIC_PARTITIONS": str(settings.topic_partitions),
        "GIFTCERT_PAYMENT_GRACE_SECONDS": str(settings.payment_grace_seconds),
    }
    return await asyncio.to_thread(CliRunner().invoke, app, ["tick"], env=environment)


async def add_workspaces(db: AsyncEngine, count: int) -> list[str]:
    workspace_ids = [f"ws-{uuid4().hex[:12]}" for _ in range(count)]
    async with db.begin() as connection:
        for workspace_id in workspace_ids:
            await WorkspaceRepository(connection).put(WorkspaceSettings(workspace_id, name=workspace_id), now())
    return workspace_ids


async def all_workspace_ids(db: AsyncEngine) -> set[str]:
    async with db.connect() as connection:
        return set(await WorkspaceRepository(connection).all_ids())


async def park_payment(db: AsyncEngine, workspace_id: str, parked_at: datetime) -> str:
    """A payment for a certificate that does not exist (yet): the ledger parks it at `parked_at`."""
    payment = PaymentCompleted(
        workspace_id=workspace_id, payment_id=f"pay-{uuid4().hex[:12]}", certificate_id=uuid4(),
        amount={"minor": 5000, "currency": "EUR"}, completed_at=parked_at,
    )
    await activate_certificate(payment, UnitOfWorkFactory(db, event_source="urn:test")(), FixedClock(parked_at))
    return payment.payment_id


async def parked_payment_ids(db: AsyncEngine) -> set[str]:
    async with db.connect() as connection:
        return set((await connection.execute(select(parked_payments.c.payment_id))).scalars())


def now() -> datetime:
    return datetime.now(UTC)


async def ticks_on_the_wire(settings: Settings, workspace_ids: set[str]) -> list[Received]:
    """Every expiry-tick on the test's topic, after one per workspace arrived and a quiet second."""
    wire = Wire(settings)
    await wire.start()
    try:
        await wire.wait_for(Topic.EXPIRY_TICK, lambda body: body["workspace_id"] in workspace_ids,
                            count=len(workspace_ids))
        await wire.quiet(1.0)
        ticks = wire.on(Topic.EXPIRY_TICK)
    finally:
        await wire.stop()
    assert len(ticks) == len(workspace_ids)  # one each, nothing more
    return ticks


async def test_tick_publishes_one_expiry_tick_per_workspace_like_the_scheduler_and_exits(
    tick_db: AsyncEngine, settings: Settings
) -> None:
    mine = await add_workspaces(tick_db, 3)
    every_workspace = await all_workspace_ids(tick_db)
    before = now()

    done = await giftcert_tick(settings)

    assert done.exit_code == 0, done.output
    assert f"published {len(every_workspace)} expiry-tick(s)" in done.stdout
    ticks = await ticks_on_the_wire(settings, every_workspace)
    by_workspace = {CheckExpiries.model_validate(record.body).workspace_id: record for record in ticks}
    assert set(by_workspace) == every_workspace >= set(mine)
    for workspace_id, record in by_workspace.items():
        tick = CheckExpiries.model_validate(record.body)
        assert record.key == workspace_id.encode()  # a workspace's ticks stay on one partition, in order
        assert before <= tick.now <= now()
    assert len({CheckExpiries.model_validate(record.body).tick_id for record in ticks}) == len(ticks)
    assert len({CheckExpiries.model_validate(record.body).now for record in ticks}) == 1



async def test_the_scheduler_publishes_the_same_ticks_through_the_same_function(
    tick_db: AsyncEngine, settings: Settings
) -> None:
    await add_workspaces(tick_db, 2)
    every_workspace = await all_workspace_ids(tick_db)
    deps = bootstrap(settings)
    broker = build_broker(settings)
    scheduler = ExpiryScheduler(deps, tick_publisher(broker, deps))
    await ensure_topics(settings)
    await broker.start()
    try:
        assert await scheduler.tick() == len(every_workspace)
    finally:
        await scheduler.close()
        await broker.stop()
        await deps.close()

    ticks = await ticks_on_the_wire(settings, every_workspace)
    assert {record.key for record in ticks} == {workspace_id.encode() for workspace_id in every_workspace}
    assert all(CheckExpiries.model_validate(record.body) for record in ticks)


async def test_tick_settles_payments_parked_past_the_grace_period_and_leaves_the_others(
    tick_db: AsyncEngine, settings: Settings
) -> None:
    [workspace_id] = await add_workspaces(tick_db, 1)
    overdue = await park_payment(tick_db, workspace_id, now() - PAYMENT_GRACE - timedelta(minutes=1))
    waiting = await park_payment(tick_db, workspace_id, now() - PAYMENT_GRACE + timedelta(minutes=5))
    assert {overdue, waiting} <= await parked_payment_ids(tick_db)

    done = await giftcert_tick(settings)

    assert done.exit_code == 0, done.output
    assert "settled 1 overdue payment(s)" in done.stdout
    still_parked = await parked_payment_ids(tick_db)
    assert overdue not in still_parked  # refused as unknown_certificate, through the outbox
    assert waiting in still_parked


async def test_an_unreachable_database_fails_the_tick_in_one_line_with_exit_1(settings: Settings) -> None:
    unreachable = settings.model_copy(update={"database_url": "postgresql+asyncpg://giftcert@127.0.0.1:1/giftcert"})

    done = await giftcert_tick(unreachable)

    assert done.exit_code == 1
    assert done.stderr.startswith("tick failed: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.output
