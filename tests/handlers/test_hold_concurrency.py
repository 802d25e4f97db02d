"""Holds under concurrency, on PostgreSQL (contract v2): concurrent transactions, each a handler's
own, made to overlap for certain. A test connection holds the certificates' rows (`FOR UPDATE`)
while the requests start, until every one of them waits for a lock; then it lets go.

- 20 holds of one certificate in `partial` mode never hold more than its balance: the certificate's
  row lock makes each read what the others took (without it, all 20 read the balance untouched and
  each waits only to write: the last test shows them all placed).
- 10 holds of different certificates for one order never add up to more than its total: the order's
  lock (the advisory lock its failure count takes) makes each read what the others hold (without
  it, each reads an order that owes all of its total).
- A capture, a release and a tick's expiry of one hold: exactly one of them ends it."""

import asyncio
from collections.abc import AsyncIterator, Coroutine, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.ledger.capture import capture_holds
from giftcert.ledger.expiry import check_expiries
from giftcert.ledger.hold import hold_certificates
from giftcert.ledger.release import release_holds
from giftcert.store import certificates as certificate_store
from giftcert.store import redemption_failures
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import (
    CaptureRejected,
    CertificateRedeemed,
    Event,
    HoldExpired,
    HoldPlaced,
    HoldRejected,
    HoldReleased,
    ReleaseRejected,
)
from tests.fakes import FixedClock
from tests.handlers.conftest import EVENT_SOURCE, Outbox
from tests.handlers.hold_steps import capture_request, entries_of, eur, hold_request, placed, release_request
from tests.handlers.steps import active, configure, tick

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(handlers_database_url: str) -> AsyncIterator[AsyncEngine]:
    """Room for every request's transaction at once, and the holder's."""
    engine = create_async_engine(handlers_database_url, pool_size=30, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(engine, event_source=EVENT_SOURCE)


async def _waiting_for_locks(engine: AsyncEngine, count: int) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND wait_event_type = 'Lock'"
    )

    async def waiting() -> None:
        while True:
            async with engine.connect() as connection:
                if (await connection.execute(query)).scalar_one() >= count:
                    return
            await asyncio.sleep(0.05)

    await asyncio.wait_for(waiting(), 60)


async def _overlapping(
    engine: AsyncEngine, certificate_ids: Sequence[UUID], requests: Sequence[Coroutine[Any, Any, list[Event]]],
    waiting: int,
) -> list[Event]:
    """Runs `requests` at once while the certificates' rows are held, until `waiting` of them wait."""
    async with engine.connect() as holder, holder.begin():
        await holder.execute(
            text("SELECT 1 FROM certificates WHERE id = ANY(CAST(:ids AS uuid[])) FOR UPDATE"),
            {"ids": list(certificate_ids)},
        )
        running = [asyncio.ensure_future(r) for r in requests]
        await _waiting_for_locks(engine, waiting)
    return [reply for replies in await asyncio.gather(*running) for reply in replies]


async def _twenty_holds_of_one_certificate(
    new_uow: UnitOfWorkFactory, clock: FixedClock, workspace: str
) -> list[Event]:
    await configure(new_uow, clock, workspace, redemption_mode="partial")
    certificate = await active(new_uow, clock, workspace)  # EUR 50
    commands = [
        hold_request(workspace, certificate.code, clock, order_id=f"trip-{n}", amount=eur(1000)) for n in range(20)
    ]
    requests = [hold_certificates([c], new_uow(), clock) for c in commands]
    return await _overlapping(new_uow.engine, [certificate.id], requests, waiting=20)


async def test_twenty_concurrent_holds_of_one_certificate_never_hold_more_than_its_balance(
    new_uow: UnitOfWorkFactory, clock: FixedClock, workspace: str
) -> None:
    replies = await _twenty_holds_of_one_certificate(new_uow, clock, workspace)
    placed_replies = [r for r in replies if isinstance(r, HoldPlaced)]
    assert len(placed_replies) == 5
    assert sorted(r.available_after.minor for r in placed_replies) == [0, 1000, 2000, 3000, 4000]
    assert {r.reason for r in replies if isinstance(r, HoldRejected)} == {"insufficient_balance"}


async def test_without_the_certificates_lock_twenty_concurrent_holds_overspend_it(
    new_uow: UnitOfWorkFactory, clock: FixedClock, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The protection the first test relies on, taken away: the certificate read without its lock."""
    monkeypatch.setattr(certificate_store, "_BY_CODES_LOCKED", certificate_store._BY_CODES_UNLOCKED)
    replies = await _twenty_holds_of_one_certificate(new_uow, clock, workspace)
    assert len([r for r in replies if isinstance(r, HoldPlaced)]) > 5


async def _ten_holds_of_one_order(new_uow: UnitOfWorkFactory, clock: FixedClock, workspace: str) -> list[Event]:
    await configure(new_uow, clock, workspace, redemption_mode="partial")
    certificates = [await active(new_uow, clock, workspace) for _ in range(10)]  # EUR 50 each
    commands = [
        hold_request(workspace, c.code, clock, order_id="big-trip", order_total=eur(12000), amount=eur(2000))
        for c in certificates
    ]
    requests = [hold_certificates([c], new_uow(), clock) for c in commands]
    return await _overlapping(new_uow.engine, [c.id for c in certificates], requests, waiting=10)


async def test_ten_concurrent_holds_of_different_certificates_never_exceed_the_orders_total(
    new_uow: UnitOfWorkFactory, clock: FixedClock, workspace: str
) -> None:
    replies = await _ten_holds_of_one_order(new_uow, clock, workspace)
    assert sum(r.amount_held.minor for r in replies if isinstance(r, HoldPlaced)) == 12000
    assert [r.reason for r in replies if isinstance(r, HoldRejected)] == ["exceeds_order_due"] * 4


async def test_without_the_orders_lock_ten_concurrent_holds_exceed_its_total(
    new_uow: UnitOfWorkFactory, clock: FixedClock, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The protection the previous test relies on, taken away: the order's advisory lock."""
    monkeypatch.setattr(redemption_failures, "_LOCK_ORDERS", text("SELECT CAST(:pairs AS text[])"))
    replies = await _ten_holds_of_one_order(new_uow, clock, workspace)
    assert sum(r.amount_held.minor for r in replies if isinstance(r, HoldPlaced)) > 12000


async def test_of_a_capture_a_release_and_a_ticks_expiry_racing_for_one_hold_exactly_one_wins(
    new_uow: UnitOfWorkFactory, clock: FixedClock, workspace: str
) -> None:
    await configure(new_uow, clock, workspace, redemption_mode="partial")
    outbox = Outbox(new_uow)
    for _ in range(5):
        certificate = await active(new_uow, clock, workspace)
        held = await placed(new_uow, clock, workspace, certificate.code, amount=eur(3000), hold_seconds=60,
                            order_id=f"o-{certificate.id}")
        await outbox.fresh(workspace)
        # the capture and the release come just before the hold's expiry, the tick just after
        late = FixedClock(held.hold_expires_at - timedelta(milliseconds=1))
        requests = [
            capture_holds([capture_request(workspace, held.hold_id, late)], new_uow(), late),
            release_holds([release_request(workspace, held.hold_id)], new_uow(), late),
            _ticked(new_uow, workspace, held.hold_expires_at),
        ]
        replies = await _overlapping(new_uow.engine, [certificate.id], requests, waiting=3)
        won = [r for r in replies if isinstance(r, CertificateRedeemed | HoldReleased)]
        expired = [e for e in await outbox.fresh(workspace) if isinstance(e, HoldExpired)]
        assert len(won) + len(expired) == 1, (replies, expired)
        refused = [r for r in replies if isinstance(r, CaptureRejected | ReleaseRejected)]
        assert len(refused) == 1 + len(expired)  # a tick that lost says nothing
        ends = [kind for kind, _ in await entries_of(new_uow, certificate.id) if kind in {"released", "hold_expired"}]
        assert len(ends) == 1


async def _ticked(new_uow: UnitOfWorkFactory, workspace: str, now: Any) -> list[Event]:
    await check_expiries(tick(workspace, now), new_uow, batch_size=10)
    return []
