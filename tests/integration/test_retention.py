"""Contract v2's retention on PostgreSQL: inbox keys and HTTP request keys are kept
GIFTCERT_DEDUPE_DAYS and then pruned by the scheduler in batches, with the unknown codes tried past
the guessing window; a payment is recognised by the payment_id its certificate keeps for ever, so a
late repeat whose inbox key was pruned never gets a payment-rejected that refunds it. On a database
of its own: nothing else prunes it or writes to it meanwhile."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import create_certificate
from giftcert.messaging.request_keys import RequestKey
from giftcert.settings import Settings
from giftcert.store.request_keys import bind
from giftcert.store.schema import inbox, redemption_failures, request_keys
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateActivated, PaymentRejected
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.scheduler.retention import RetentionPruner
from tests.databases import migrated_database_url
from tests.fakes import FixedClock
from tests.handlers import steps

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
LONG_AGO = NOW - timedelta(days=36)  # past the default GIFTCERT_DEDUPE_DAYS (35)
WORKSPACE = "retention"


@pytest.fixture(scope="module")
async def retention_db(postgres_server_url: str) -> AsyncIterator[AsyncEngine]:
    url = await asyncio.to_thread(migrated_database_url, postgres_server_url, "retention")
    engine = create_async_engine(url)
    await steps.configure(UnitOfWorkFactory(engine, event_source="urn:test"), FixedClock(LONG_AGO), WORKSPACE)
    yield engine
    await engine.dispose()


def _pruner(db: AsyncEngine, **settings: object) -> RetentionPruner:
    deps = Dependencies(
        settings=Settings(database_url=str(db.url), **settings),  # type: ignore[arg-type]
        engine=db, new_uow=UnitOfWorkFactory(db, event_source="urn:test"), clock=FixedClock(NOW),
    )
    return RetentionPruner(deps)


async def _count(db: AsyncEngine, table: object, *where: object) -> int:
    async with db.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table).where(*where))).scalar_one())  # type: ignore[arg-type]


async def _paid(new_uow: UnitOfWorkFactory, clock: FixedClock) -> steps.PaymentCompleted:
    request = steps.purchase(WORKSPACE, clock)
    await create_certificate(request, new_uow(), clock)
    paying = steps.payment(request, clock)
    assert isinstance(await activate_certificate(paying, new_uow(), clock), CertificateActivated)
    return paying


async def test_keys_past_the_dedupe_days_and_failures_past_the_window_are_pruned_in_batches(
    retention_db: AsyncEngine,
) -> None:
    new_uow = UnitOfWorkFactory(retention_db, event_source="urn:test")
    old, recent = FixedClock(LONG_AGO), FixedClock(NOW - timedelta(days=34))
    for clock in (old, old, old, recent):
        await _paid(new_uow, clock)
    async with retention_db.begin() as connection:
        for when, key in ((LONG_AGO, "old"), (NOW, "new")):
            await bind(connection, RequestKey(WORKSPACE, "test", key, "f" * 64), when)
        await connection.execute(
            redemption_failures.insert(),
            [{"workspace_id": WORKSPACE, "order_id": f"o-{n}", "failed_at": NOW - timedelta(minutes=m)}
             for n, m in enumerate((11, 12, 13, 1))],
        )
    old_keys = await _count(retention_db, inbox, inbox.c.handled_at < NOW - timedelta(days=35))
    assert old_keys == 6  # a purchase and a payment each, three times

    pruned = await _pruner(retention_db, prune_batch_size=2).prune()
    assert pruned == {"inbox": 6, "request_keys": 1, "redemption_failures": 3}
    assert await _count(retention_db, inbox, inbox.c.handled_at < NOW - timedelta(days=35)) == 0
    assert await _count(retention_db, inbox, inbox.c.workspace_id == WORKSPACE) == 2  # the recent ones
    assert await _count(retention_db, request_keys, request_keys.c.workspace_id == WORKSPACE) == 1
    assert await _count(retention_db, redemption_failures, redemption_failures.c.workspace_id == WORKSPACE) == 1
    assert await _pruner(retention_db).prune() == {"inbox": 0, "request_keys": 0, "redemption_failures": 0}


async def test_a_repeated_payment_whose_inbox_key_was_pruned_is_still_a_repeat_and_never_refunded(
    retention_db: AsyncEngine,
) -> None:
    new_uow = UnitOfWorkFactory(retention_db, event_source="urn:test")
    paying = await _paid(new_uow, FixedClock(LONG_AGO))
    await _pruner(retention_db).prune()
    key = (inbox.c.consumer == "payment", inbox.c.key == paying.payment_id)
    assert await _count(retention_db, inbox, *key) == 0  # forgotten

    clock = FixedClock(NOW)
    assert await activate_certificate(paying, new_uow(), clock) is None  # a repeat: nothing published
    async with retention_db.connect() as connection:
        rejected = (await connection.execute(
            text("SELECT count(*) FROM outbox WHERE topic = 'payment-rejected'"
                 " AND convert_from(payload, 'UTF8')::jsonb ->> 'payment_id' = :payment"),
            {"payment": paying.payment_id},
        )).scalar_one()
    assert rejected == 0
    async with new_uow() as uow:
        certificate = await uow.certificates.get(WORKSPACE, paying.certificate_id)
    assert certificate is not None
    assert (certificate.status.value, certificate.payment_id) == ("active", paying.payment_id)
    # another payment for it is still refused (the payment system refunds that one)
    other = steps.payment(steps.purchase(WORKSPACE, clock), clock, certificate_id=paying.certificate_id)
    refused = await activate_certificate(other, new_uow(), clock)
    assert isinstance(refused, PaymentRejected)
    assert refused.reason == "not_pending"
