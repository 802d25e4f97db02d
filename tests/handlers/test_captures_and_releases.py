"""booking-capture-request and booking-release-request (contract v2): a live hold ends once,
captured (all or part of it, the rest released) or released, and every reason either is refused
for. One body, both stores."""

from datetime import timedelta
from uuid import uuid4

import pytest

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Status
from giftcert.ledger.capture import capture_holds
from giftcert.ledger.expiry import check_expiries
from giftcert.ledger.release import release_holds
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import (
    CaptureRejected,
    CertificateRedeemed,
    Event,
    HoldReleased,
    ReleaseRejected,
)
from giftcert_contracts.topics import Topic
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.hold_steps import (
    available_of,
    capture,
    capture_request,
    entries_of,
    eur,
    placed,
    release,
    release_request,
)
from tests.handlers.steps import active, activity_of, balance_of, configure, same_decision, stored_certificate, tick


@pytest.fixture
async def partial(new_uow: NewUnitOfWork, clock: FixedClock, shop: str) -> str:
    await configure(new_uow, clock, shop, redemption_mode="partial")
    return shop


def _capture_refused(reply: Event) -> tuple[str, object]:
    assert isinstance(reply, CaptureRejected), reply
    return reply.reason, reply.certificate_id


def _release_refused(reply: Event) -> tuple[str, object]:
    assert isinstance(reply, ReleaseRejected), reply
    return reply.reason, reply.certificate_id


def _hold_entries(entries: list[tuple[str, int]]) -> int:
    return sum(minor for kind, minor in entries if kind in {"hold", "released", "hold_expired"})


async def test_a_capture_applies_all_that_was_held_by_default(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    held = await placed(new_uow, clock, partial, certificate.code, amount=eur(3000), order_id="trip-1")
    await outbox.fresh(partial)
    reply = await capture(new_uow, clock, partial, held.hold_id)
    assert isinstance(reply, CertificateRedeemed)
    assert (reply.hold_id, reply.order_id, reply.amount_applied.minor, reply.status_after) == (
        held.hold_id, "trip-1", 3000, "active",
    )
    assert reply.balance_after is not None
    assert reply.balance_after.minor == 2000
    assert [type(e) for e in await outbox.fresh(partial)] == [CertificateRedeemed]  # nothing left to release
    assert await balance_of(new_uow, certificate.id) == 2000
    assert await available_of(new_uow, certificate.id, clock.now()) == 2000
    entries = await entries_of(new_uow, certificate.id)
    assert entries[-2:] == [("released", 3000), ("captured", -3000)]
    assert _hold_entries(entries) == 0
    assert (await activity_of(new_uow, certificate.id))[-1] is ActivityKind.REDEEMED


async def test_a_capture_of_less_publishes_the_redemption_then_the_release_of_the_rest(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    held = await placed(new_uow, clock, partial, certificate.code, amount=eur(4000))
    await outbox.fresh(partial)
    reply = await capture(new_uow, clock, partial, held.hold_id, amount=eur(2500))
    assert isinstance(reply, CertificateRedeemed)
    assert reply.amount_applied.minor == 2500
    redeemed_event, released = await outbox.fresh(partial)
    assert redeemed_event == reply
    assert isinstance(released, HoldReleased)
    assert (released.request_id, released.hold_id, released.amount_released.minor) == (
        reply.request_id, held.hold_id, 1500,
    )
    assert released.available_after.minor == 2500
    topics = [(topic, number) for topic, _, number in (await outbox.sequences(partial))[-2:]]
    assert topics == [(Topic.CERTIFICATE_REDEEMED, 4), (Topic.HOLD_RELEASED, 5)]
    assert await available_of(new_uow, certificate.id, clock.now()) == 2500


async def test_a_live_hold_is_captured_though_the_certificate_expired_since(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)  # expires in 30 days
    assert certificate.expires_at is not None
    clock.advance(certificate.expires_at - clock.now() - timedelta(hours=12))
    held = await placed(new_uow, clock, shop, certificate.code, hold_seconds=86_400)
    clock.advance(timedelta(hours=13))
    assert certificate.has_expired_by(clock.now())
    reply = await capture(new_uow, clock, shop, held.hold_id)
    assert isinstance(reply, CertificateRedeemed)
    assert reply.status_after == "redeemed"
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.REDEEMED


async def test_a_capture_is_refused_for_each_reason_the_contract_names(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    assert _capture_refused(await capture(new_uow, clock, partial, uuid4())) == ("unknown_hold", None)
    held = await placed(new_uow, clock, partial, certificate.code, amount=eur(2000), hold_seconds=600)
    assert _capture_refused(await capture(new_uow, clock, partial, held.hold_id, amount=eur(2001))) == (
        "amount_exceeds_hold", certificate.id,
    )
    for amount in (eur(0), eur(-1), {"minor": 100, "currency": "GBP"}):
        assert _capture_refused(await capture(new_uow, clock, partial, held.hold_id, amount=amount)) == (
            "invalid_amount", certificate.id,
        )
    assert isinstance(await capture(new_uow, clock, partial, held.hold_id), CertificateRedeemed)
    assert _capture_refused(await capture(new_uow, clock, partial, held.hold_id)) == (
        "already_captured", certificate.id,
    )
    released = await placed(new_uow, clock, partial, certificate.code, amount=eur(1000))
    assert isinstance(await release(new_uow, clock, partial, released.hold_id), HoldReleased)
    assert _capture_refused(await capture(new_uow, clock, partial, released.hold_id)) == (
        "hold_released", certificate.id,
    )
    lapsing = await placed(new_uow, clock, partial, certificate.code, amount=eur(1000), hold_seconds=60)
    clock.advance(timedelta(seconds=60))  # past it by the request's clock; no tick yet
    assert _capture_refused(await capture(new_uow, clock, partial, lapsing.hold_id)) == (
        "hold_expired", certificate.id,
    )
    await check_expiries(tick(partial, clock.now()), new_uow, batch_size=10)  # now marked expired
    assert _capture_refused(await capture(new_uow, clock, partial, lapsing.hold_id)) == (
        "hold_expired", certificate.id,
    )
    assert await balance_of(new_uow, certificate.id) == 3000


async def test_in_full_mode_a_capture_takes_all_that_was_held(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    held = await placed(new_uow, clock, shop, certificate.code)
    assert _capture_refused(await capture(new_uow, clock, shop, held.hold_id, amount=eur(1000))) == (
        "invalid_amount", certificate.id,
    )
    reply = await capture(new_uow, clock, shop, held.hold_id, amount=eur(5000))
    assert isinstance(reply, CertificateRedeemed)
    assert reply.status_after == "redeemed"


async def test_a_repeated_capture_gets_its_first_reply_and_applies_nothing_more(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    held = await placed(new_uow, clock, partial, certificate.code, amount=eur(2000))
    request = capture_request(partial, held.hold_id, clock, amount=eur(500))
    (first,) = await capture_holds([request], new_uow(), clock)
    (again,) = await capture_holds([request], new_uow(), clock)
    assert same_decision(again, first)
    assert await balance_of(new_uow, certificate.id) == 4500


async def test_a_release_gives_back_all_that_was_held(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    held = await placed(new_uow, clock, partial, certificate.code, amount=eur(2000), order_id="trip-1")
    reply = await release(new_uow, clock, partial, held.hold_id)
    assert isinstance(reply, HoldReleased)
    assert (reply.hold_id, reply.certificate_id, reply.amount_released.minor, reply.available_after.minor) == (
        held.hold_id, certificate.id, 2000, 5000,
    )
    assert await available_of(new_uow, certificate.id, clock.now()) == 5000
    entries = await entries_of(new_uow, certificate.id)
    assert entries[-1] == ("released", 2000)
    assert _hold_entries(entries) == 0
    assert await balance_of(new_uow, certificate.id) == 5000
    assert (await activity_of(new_uow, certificate.id))[-1] is ActivityKind.HOLD_RELEASED
    request = release_request(partial, held.hold_id)
    (first,) = await release_holds([request], new_uow(), clock)
    (again,) = await release_holds([request], new_uow(), clock)
    assert same_decision(again, first)


async def test_a_release_is_refused_for_each_reason_the_contract_names(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    assert _release_refused(await release(new_uow, clock, partial, uuid4())) == ("unknown_hold", None)
    captured = await placed(new_uow, clock, partial, certificate.code, amount=eur(1000))
    assert isinstance(await capture(new_uow, clock, partial, captured.hold_id), CertificateRedeemed)
    assert _release_refused(await release(new_uow, clock, partial, captured.hold_id)) == (
        "already_captured", certificate.id,
    )
    released = await placed(new_uow, clock, partial, certificate.code, amount=eur(1000))
    assert isinstance(await release(new_uow, clock, partial, released.hold_id), HoldReleased)
    assert _release_refused(await release(new_uow, clock, partial, released.hold_id)) == (
        "hold_released", certificate.id,
    )
    lapsing = await placed(new_uow, clock, partial, certificate.code, amount=eur(1000), hold_seconds=30)
    clock.advance(timedelta(seconds=31))
    assert _release_refused(await release(new_uow, clock, partial, lapsing.hold_id)) == (
        "hold_expired", certificate.id,
    )
    assert await available_of(new_uow, certificate.id, clock.now()) == 4000
