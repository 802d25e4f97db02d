"""Contract v2: a pending certificate not paid within the workspace's pending_days is voided by a tick
(`unpaid`, actor `system`), a payment that comes later is refused `not_pending`, and it is never
reactivated. One body, both stores."""

from datetime import timedelta

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Status
from giftcert.ledger.expiry import check_expiries
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.unpaid import unpaid_voiding_id
from giftcert.ledger.voiding import reactivate_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateVoided, PaymentRejected, ReactivateRejected
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import activity_of, configure, payment, pending, reactivate, stored_certificate, tick


async def test_a_certificate_unpaid_past_the_pending_days_is_voided_by_a_tick_for_good(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    await configure(new_uow, clock, shop, pending_days=7)
    request = await pending(new_uow, clock, shop)
    await outbox.fresh(shop)
    almost = clock.now() + timedelta(days=7)
    await check_expiries(tick(shop, almost), new_uow, batch_size=10)
    assert (await stored_certificate(new_uow, shop, request.certificate_id)).status is Status.PENDING
    assert await outbox.fresh(shop) == []

    later = almost + timedelta(seconds=1)
    await check_expiries(tick(shop, later), new_uow, batch_size=1)  # in batches of one: still all of it
    (voided,) = await outbox.fresh(shop)
    assert isinstance(voided, CertificateVoided)
    assert (voided.certificate_id, voided.reason, voided.actor) == (request.certificate_id, "unpaid", "system")
    assert voided.request_id == unpaid_voiding_id(request.certificate_id)
    certificate = await stored_certificate(new_uow, shop, request.certificate_id)
    assert (certificate.status, certificate.voided_at, certificate.activated_at) == (Status.VOIDED, later, None)
    assert (await activity_of(new_uow, request.certificate_id))[-1] is ActivityKind.VOIDED

    clock.advance(later - clock.now())
    late = await activate_certificate(payment(request, clock), new_uow(), clock)
    assert isinstance(late, PaymentRejected)
    assert late.reason == "not_pending"  # the payment system refunds it
    refused = await reactivate_certificate(reactivate(shop, request.certificate_id), new_uow(), clock)
    assert isinstance(refused, ReactivateRejected)
    assert refused.reason == "unpaid"
    assert (await stored_certificate(new_uow, shop, request.certificate_id)).status is Status.VOIDED


async def test_a_workspace_that_changes_nothing_keeps_a_certificate_pending_for_ever_as_v1(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    await configure(new_uow, clock, shop)  # pending_days 0, the default
    request = await pending(new_uow, clock, shop)
    await outbox.fresh(shop)
    await check_expiries(tick(shop, clock.now() + timedelta(days=3650)), new_uow, batch_size=10)
    assert (await stored_certificate(new_uow, shop, request.certificate_id)).status is Status.PENDING
    assert await outbox.fresh(shop) == []


async def test_a_paid_certificate_is_not_voided_as_unpaid_and_each_workspace_keeps_its_own_days(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    await configure(new_uow, clock, shop, pending_days=2)
    paid = await pending(new_uow, clock, shop)
    await activate_certificate(payment(paid, clock), new_uow(), clock)
    unpaid = await pending(new_uow, clock, shop)
    await outbox.fresh(shop)
    await check_expiries(tick(shop, clock.now() + timedelta(days=2, seconds=1)), new_uow, batch_size=10)
    assert [e.certificate_id for e in await outbox.fresh(shop) if isinstance(e, CertificateVoided)] == [
        unpaid.certificate_id
    ]
    assert (await stored_certificate(new_uow, shop, paid.certificate_id)).status is Status.ACTIVE
