"""expiry-tick: expiry and reminders, driven by the tick's own `now`."""


import asyncio
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate, Status
from giftcert.ledger.expiry import check_expiries
from giftcert.pacing import Pacing
from giftcert.ports import NewUnitOfWork
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import (
    CertificateExpired,
    CertificateExpiringSoon,
)
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import (
    REMINDER_DAYS,
    active,
    activity_of,
    configure,
    pending,
    stored_certificate,
    tick,
    voided,
)


async def test_a_tick_expires_the_active_certificates_past_their_expiry_and_nothing_else(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    due = await active(new_uow, clock, shop)
    still_pending = (await pending(new_uow, clock, shop)).certificate_id
    was_voided = (await voided(new_uow, clock, shop)).id
    clock.advance(timedelta(days=1))
    not_yet = await active(new_uow, clock, shop)
    assert due.expires_at is not None
    now = due.expires_at + timedelta(hours=1)
    await outbox.fresh(shop)
    assert await check_expiries(tick(shop, now), new_uow, batch_size=10) == 1
    expired_event, *reminders = await outbox.fresh(shop)
    assert expired_event == CertificateExpired(
        workspace_id=shop, event_id=expired_event.event_id, occurred_at=now,
        certificate_id=due.id, code_last4=due.code[-4:], expired_at=now,
    )
    assert [r.certificate_id for r in reminders if isinstance(r, CertificateExpiringSoon)] == [not_yet.id]
    after = await stored_certificate(new_uow, shop, due.id)
    assert (after.status, after.expired_at) == (Status.EXPIRED, now)
    assert (await activity_of(new_uow, due.id))[-1] == ActivityKind.EXPIRED
    assert (await stored_certificate(new_uow, shop, still_pending)).status is Status.PENDING
    assert (await stored_certificate(new_uow, shop, was_voided)).status is Status.VOIDED
    assert (await stored_certificate(new_uow, shop, not_yet.id)).status is Status.ACTIVE


async def test_expiry_uses_the_ticks_now(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    assert certificate.expires_at is not None
    clock.advance(timedelta(days=400))  # the clock is long past the expiry; the tick is not
    assert await check_expiries(tick(shop, certificate.expires_at - timedelta(seconds=1)), new_uow, batch_size=10) == 0
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.ACTIVE
    await outbox.fresh(shop)
    assert await check_expiries(tick(shop, certificate.expires_at), new_uow, batch_size=10) == 1
    (event,) = await outbox.fresh(shop)
    assert isinstance(event, CertificateExpired)
    assert event.expired_at == event.occurred_at == certificate.expires_at


async def test_a_repeated_tick_publishes_nothing_new(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    assert certificate.expires_at is not None
    early = tick(shop, certificate.expires_at - timedelta(days=1))
    assert await check_expiries(early, new_uow, batch_size=10) == 0
    await outbox.fresh(shop)
    late = early.model_copy(update={"now": certificate.expires_at})  # same tick_id, whatever its now
    assert await check_expiries(late, new_uow, batch_size=10) == 0
    assert await outbox.fresh(shop) == []
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.ACTIVE


async def test_a_tick_reminds_once_of_a_certificate_entering_the_reminder_window(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    assert certificate.expires_at is not None
    await outbox.fresh(shop)
    before_window = certificate.expires_at - timedelta(days=REMINDER_DAYS, seconds=1)
    assert await check_expiries(tick(shop, before_window), new_uow, batch_size=10) == 0
    assert await outbox.fresh(shop) == []
    in_window = certificate.expires_at - timedelta(days=REMINDER_DAYS)
    await check_expiries(tick(shop, in_window), new_uow, batch_size=10)
    (reminder,) = await outbox.fresh(shop)
    assert isinstance(reminder, CertificateExpiringSoon)
    assert (reminder.certificate_id, reminder.expires_at, reminder.recipient_email) == (
        certificate.id, certificate.expires_at, certificate.recipient_email,
    )
    assert (await stored_certificate(new_uow, shop, certificate.id)).expiring_soon_notified_at == in_window
    await check_expiries(tick(shop, in_window + timedelta(days=1)), new_uow, batch_size=10)
    assert await outbox.fresh(shop) == []


async def _five_due_and_three_to_remind(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> tuple[list[Certificate], list[Certificate]]:
    """Five certificates due at the first one's expiry, three entering the reminder window then;
    the outbox read up to here."""
    due = [await active(new_uow, clock, shop) for _ in range(5)]
    clock.advance(timedelta(days=REMINDER_DAYS))
    soon = [await active(new_uow, clock, shop) for _ in range(3)]
    assert due[0].expires_at is not None
    await outbox.fresh(shop)
    return due, soon


async def test_a_tick_goes_through_more_certificates_than_one_batch(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    first, second = await _five_due_and_three_to_remind(new_uow, clock, outbox, shop)
    assert first[0].expires_at is not None
    assert await check_expiries(tick(shop, first[0].expires_at), new_uow, batch_size=2) == 5
    events = await outbox.fresh(shop)
    assert sorted(e.certificate_id for e in events if isinstance(e, CertificateExpired)) == sorted(
        c.id for c in first
    )
    assert sorted(e.certificate_id for e in events if isinstance(e, CertificateExpiringSoon)) == sorted(
        c.id for c in second
    )



_HOLDS = text("SELECT 1 FROM certificates WHERE id = :id FOR UPDATE")
_BLOCKED_BY = text("SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))")


async def _hold(connection: AsyncConnection, certificate_id: UUID) -> int:
    """Locks the certificate's row, as a worker storing its PDF does; returns the backend's pid."""
    await connection.execute(_HOLDS, {"id": certificate_id})
    return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


_WAITING = text(
    "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid) AS blocked_by, left(query, 160) AS query"
    " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
)
WAIT_AT_MOST = 60.0
"""The tick is blocked in milliseconds; a minute without it says what every session was doing instead."""


async def _until_blocked_by(engine: AsyncEngine, holder: int, ticking: asyncio.Task[int]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_AT_MOST
    async with engine.connect() as watcher:
        while not ticking.done() and (await watcher.execute(_BLOCKED_BY, {"holder": holder})).scalar_one() == 0:
            if asyncio.get_running_loop().time() > deadline:
                sessions = [dict(row) for row in (await watcher.execute(_WAITING)).mappings()]
                raise AssertionError(f"the tick was not blocked by session {holder} in {WAIT_AT_MOST:g} s: {sessions}")
            await asyncio.sleep(0.02)
    assert not ticking.done(), "the tick finished without waiting for a certificate held"


@pytest.mark.integration
@pytest.mark.parametrize("due", ["expired", "expiring soon"])
async def test_a_tick_waits_for_each_due_certificate_another_transaction_holds_and_holds_none_meanwhile(
    postgres_uow_factory: UnitOfWorkFactory, clock: FixedClock, workspace: str, due: str
) -> None:
    """PostgreSQL only: the fake store has no row locks. Other workers (storing a PDF, say) hold two
    rows while the tick passes by: it takes each once its holder commits, and while it waits for the
    second it holds nothing, so the first is free for a redemption."""
    new_uow, engine = postgres_uow_factory, postgres_uow_factory.engine
    await configure(new_uow, clock, workspace)
    first = await active(new_uow, clock, workspace)
    clock.advance(timedelta(hours=1))
    second, free = await active(new_uow, clock, workspace), await active(new_uow, clock, workspace)
    assert first.expires_at is not None
    assert second.expires_at is not None
    now = second.expires_at + timedelta(hours=1) if due == "expired" else first.expires_at - timedelta(days=1)
    outbox = Outbox(new_uow)
    await outbox.fresh(workspace)
    async with engine.connect() as holder, engine.connect() as other_holder:
        first_holder, second_holder = await _hold(holder, first.id), await _hold(other_holder, second.id)
        ticking = asyncio.create_task(check_expiries(tick(workspace, now), new_uow, batch_size=10))
        try:
            await _until_blocked_by(engine, first_holder, ticking)
            await holder.commit()
            await _until_blocked_by(engine, second_holder, ticking)
            async with engine.connect() as redemption:  # would raise LockNotAvailable were the row held
                await redemption.execute(text(f"{_HOLDS.text} NOWAIT"), {"id": first.id})
            await other_holder.commit()
        except BaseException:
            ticking.cancel()  # a tick left running would go on writing in the tests after this one
            raise
    await ticking
    events = await outbox.fresh(workspace)
    wanted = CertificateExpired if due == "expired" else CertificateExpiringSoon
    assert sorted(e.certificate_id for e in events if isinstance(e, wanted)) == sorted([first.id, second.id, free.id])


@pytest.mark.integration
async def test_a_tick_is_not_held_up_by_a_row_being_written_that_refers_to_a_certificate(
    postgres_uow_factory: UnitOfWorkFactory, clock: FixedClock, workspace: str
) -> None:
    """Inserting a row that refers to a certificate (its document, an activity entry) locks the
    certificate `FOR KEY SHARE`; the tick's lock is the one an UPDATE takes, which does not wait for it."""
    new_uow, engine = postgres_uow_factory, postgres_uow_factory.engine
    await configure(new_uow, clock, workspace)
    certificate = await active(new_uow, clock, workspace)
    assert certificate.expires_at is not None
    outbox = Outbox(new_uow)
    await outbox.fresh(workspace)
    async with engine.connect() as writer:
        await writer.execute(text("SELECT 1 FROM certificates WHERE id = :id FOR KEY SHARE"), {"id": certificate.id})
        ticking = check_expiries(tick(workspace, certificate.expires_at), new_uow, batch_size=10)
        assert await asyncio.wait_for(ticking, timeout=20) == 1
    (event,) = await outbox.fresh(workspace)
    assert isinstance(event, CertificateExpired)


@pytest.mark.integration
async def test_the_same_tick_handled_twice_at_once_expires_and_reminds_each_certificate_once(
    postgres_uow_factory: UnitOfWorkFactory, clock: FixedClock, workspace: str
) -> None:
    """PostgreSQL only: the fake store has no row locks. During the upgrade that moved the ticks to
    their own service, an old ledger and a new expiry worker, in two consumer groups, both handle
    each tick, side by side, in batches: every certificate still gets one decision and one event."""
    new_uow = postgres_uow_factory
    await configure(new_uow, clock, workspace)
    due = [await active(new_uow, clock, workspace) for _ in range(30)]
    clock.advance(timedelta(days=REMINDER_DAYS))
    soon = [await active(new_uow, clock, workspace) for _ in range(15)]
    assert due[0].expires_at is not None
    outbox = Outbox(new_uow)
    await outbox.fresh(workspace)
    same = tick(workspace, due[-1].expires_at)
    counts = await asyncio.gather(*(check_expiries(same, new_uow, batch_size=3) for _ in range(2)))
    events = await outbox.fresh(workspace)
    assert sorted(e.certificate_id for e in events if isinstance(e, CertificateExpired)) == sorted(c.id for c in due)
    assert sorted(e.certificate_id for e in events if isinstance(e, CertificateExpiringSoon)) == sorted(
        c.id for c in soon
    )
    assert sum(counts) == len(due)
    assert {(await stored_certificate(new_uow, workspace, c.id)).status for c in due} == {Status.EXPIRED}


async def test_a_tick_keeps_to_its_pace_between_full_batches(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    due, soon = await _five_due_and_three_to_remind(new_uow, clock, outbox, shop)
    assert due[0].expires_at is not None
    slept: list[float] = []
    moment = [0.0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        moment[0] += seconds

    four_a_second = Pacing(4, monotonic=lambda: moment[0], sleep=sleep)
    assert await check_expiries(tick(shop, due[0].expires_at), new_uow, batch_size=2, pacing=four_a_second) == 5
    # expiry: 2, wait 0.5 s, 2, wait 0.5 s, 1 (short: done); reminders: 2, wait 0.5 s, 1
    assert slept == [pytest.approx(0.5)] * 3
    events = await outbox.fresh(shop)
    assert len([e for e in events if isinstance(e, CertificateExpired)]) == len(due)
    assert len([e for e in events if isinstance(e, CertificateExpiringSoon)]) == len(soon)
