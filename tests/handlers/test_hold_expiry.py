"""Holds at a tick (contract v2): a live hold past its `hold_expires_at` is expired (hold-expired,
a `hold_expired` ledger entry), a certificate with a live hold is not expired by a tick (it is at
the first tick after), and a certificate with a live hold is not voided (`held`). Both stores."""

from datetime import timedelta

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Status
from giftcert.ledger.expiry import check_expiries
from giftcert.ledger.voiding import void_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import (
    CertificateExpired,
    CertificateVoided,
    HoldExpired,
    HoldReleased,
    VoidRejected,
)
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.hold_steps import available_of, entries_of, eur, placed, release
from tests.handlers.steps import active, activity_of, configure, stored_certificate, tick, void


async def test_a_tick_expires_a_live_hold_past_its_expiry_once(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    await configure(new_uow, clock, shop, redemption_mode="partial")
    certificate = await active(new_uow, clock, shop)
    lapsing = await placed(new_uow, clock, shop, certificate.code, amount=eur(2000), order_id="trip-1",
                           hold_seconds=60)
    staying = await placed(new_uow, clock, shop, certificate.code, amount=eur(1000), order_id="trip-2",
                           hold_seconds=600)
    await outbox.fresh(shop)
    clock.advance(timedelta(seconds=60))
    await check_expiries(tick(shop, clock.now()), new_uow, batch_size=1)
    (event,) = await outbox.fresh(shop)
    assert isinstance(event, HoldExpired)
    assert (event.hold_id, event.order_id, event.certificate_id, event.amount_released.minor) == (
        lapsing.hold_id, "trip-1", certificate.id, 2000,
    )
    assert event.available_after.minor == 4000  # 50 less the 10 still held
    assert (await entries_of(new_uow, certificate.id))[-1] == ("hold_expired", 2000)
    assert (await activity_of(new_uow, certificate.id))[-1] is ActivityKind.HOLD_EXPIRED
    await check_expiries(tick(shop, clock.now()), new_uow, batch_size=1)
    assert await outbox.fresh(shop) == []
    assert staying.hold_expires_at > clock.now()
    assert await available_of(new_uow, certificate.id, clock.now()) == 4000


async def test_a_tick_expires_the_holds_of_many_certificates_in_batches(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificates = [await active(new_uow, clock, shop) for _ in range(5)]
    holds = {
        (await placed(new_uow, clock, shop, c.code, hold_seconds=30, order_id=f"trip-{n}")).hold_id
        for n, c in enumerate(certificates)
    }
    await outbox.fresh(shop)
    clock.advance(timedelta(minutes=1))
    await check_expiries(tick(shop, clock.now()), new_uow, batch_size=2)
    expired = await outbox.fresh(shop)
    assert all(isinstance(e, HoldExpired) for e in expired)
    assert {e.hold_id for e in expired if isinstance(e, HoldExpired)} == holds


async def test_a_certificate_with_a_live_hold_expires_at_the_first_tick_after_the_hold(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    assert certificate.expires_at is not None
    clock.advance(certificate.expires_at - clock.now() - timedelta(minutes=5))
    held = await placed(new_uow, clock, shop, certificate.code, hold_seconds=900)
    await outbox.fresh(shop)
    clock.advance(timedelta(minutes=10))  # past the certificate's expiry, the hold still live
    assert await check_expiries(tick(shop, clock.now()), new_uow, batch_size=10) == 0
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.ACTIVE
    assert await outbox.fresh(shop) == []
    clock.advance(timedelta(minutes=10))  # the hold is over
    assert await check_expiries(tick(shop, clock.now()), new_uow, batch_size=10) == 1
    events = await outbox.fresh(shop)
    assert [type(e) for e in events] == [HoldExpired, CertificateExpired]
    assert events[0].hold_id == held.hold_id  # type: ignore[attr-defined]
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.EXPIRED


async def test_a_certificate_with_a_live_hold_is_not_voided(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    held = await placed(new_uow, clock, shop, certificate.code)
    refused = await void_certificate(void(shop, certificate.id), new_uow(), clock)
    assert isinstance(refused, VoidRejected)
    assert (refused.reason, refused.certificate_id) == ("held", certificate.id)
    assert isinstance(await release(new_uow, clock, shop, held.hold_id), HoldReleased)
    assert isinstance(await void_certificate(void(shop, certificate.id), new_uow(), clock), CertificateVoided)


async def test_a_certificate_whose_hold_lapsed_is_voided_before_any_tick(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    await placed(new_uow, clock, shop, certificate.code, hold_seconds=10)
    clock.advance(timedelta(seconds=10))
    assert isinstance(await void_certificate(void(shop, certificate.id), new_uow(), clock), CertificateVoided)
