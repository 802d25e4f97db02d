"""payment-completed: activation once, refusals that let the payment system refund, and payments that
come before their purchase."""


import asyncio
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Status
from giftcert.ledger import purchase as purchase_handler
from giftcert.ledger.overdue_payments import settle_overdue_payments
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import create_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import (
    CertificateActivated,
    CertificateCreated,
    PaymentRejected,
    PurchaseRejected,
)
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import (
    EXPIRY_DAYS,
    GRACE,
    activity_of,
    balance_of,
    payment,
    pending,
    purchase,
    stored,
    stored_certificate,
)


async def test_a_payment_activates_its_pending_certificate(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = await pending(new_uow, clock, shop)
    await outbox.fresh(shop)
    clock.advance(timedelta(minutes=1))
    paid = payment(request, clock)
    reply = await activate_certificate(paid, new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, CertificateActivated)
    certificate = await stored_certificate(new_uow, shop, request.certificate_id)
    assert certificate.status is Status.ACTIVE
    assert certificate.payment_id == paid.payment_id
    assert reply.activated_at == certificate.activated_at == clock.now()
    assert reply.expires_at == certificate.expires_at == clock.now() + timedelta(days=EXPIRY_DAYS)
    assert (reply.code_last4, reply.amount, reply.channel) == (certificate.code[-4:], request.amount, "portal")
    assert reply.payment_id == paid.payment_id
    assert await balance_of(new_uow, certificate.id) == 5000
    assert (await activity_of(new_uow, certificate.id))[2:] == [
        ActivityKind.PURCHASED, ActivityKind.ACTIVATED_FROM_PORTAL,
    ]


async def test_a_repeated_payment_activates_nothing_twice(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = await pending(new_uow, clock, shop)
    paid = payment(request, clock)
    await activate_certificate(paid, new_uow(), clock)
    activated = await stored_certificate(new_uow, shop, request.certificate_id)
    await outbox.fresh(shop)
    clock.advance(timedelta(minutes=1))
    assert await activate_certificate(paid, new_uow(), clock) is None
    assert await outbox.fresh(shop) == []
    assert await stored_certificate(new_uow, shop, request.certificate_id) == activated
    assert await balance_of(new_uow, request.certificate_id) == 5000


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ({"minor": 4999, "currency": "EUR"}, "amount_mismatch"),
        ({"minor": 5000, "currency": "USD"}, "currency_mismatch"),
    ],
    ids=["another_amount", "another_currency"],
)
async def test_a_payment_that_does_not_fit_is_refused_and_leaves_the_certificate_pending(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, amount: dict[str, Any], reason: str
) -> None:
    request = await pending(new_uow, clock, shop)
    await outbox.fresh(shop)
    paid = payment(request, clock, amount=amount)
    reply = await activate_certificate(paid, new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, PaymentRejected)
    assert (reply.payment_id, reply.certificate_id, reply.reason) == (paid.payment_id, request.certificate_id, reason)
    assert (await stored_certificate(new_uow, shop, request.certificate_id)).status is Status.PENDING


async def test_a_second_payment_of_an_active_certificate_is_refused_as_not_pending(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = await pending(new_uow, clock, shop)
    await activate_certificate(payment(request, clock), new_uow(), clock)
    await outbox.fresh(shop)
    reply = await activate_certificate(payment(request, clock), new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, PaymentRejected)
    assert reply.reason == "not_pending"
    assert await balance_of(new_uow, request.certificate_id) == 5000


async def test_a_payment_for_a_certificate_of_another_workspace_is_refused_at_once(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = await pending(new_uow, clock, shop)
    elsewhere = f"ws-{uuid4().hex[:12]}"
    reply = await activate_certificate(payment(request, clock, workspace_id=elsewhere), new_uow(), clock)
    assert await outbox.events(elsewhere) == [reply]
    assert isinstance(reply, PaymentRejected)
    assert reply.reason == "unknown_certificate"
    assert (await stored_certificate(new_uow, shop, request.certificate_id)).status is Status.PENDING


async def test_a_payment_before_its_purchase_is_settled_by_the_purchase(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = purchase(shop, clock)
    paid = payment(request, clock)
    assert await activate_certificate(paid, new_uow(), clock) is None
    assert await activate_certificate(paid, new_uow(), clock) is None  # a repeat parks nothing more
    assert await outbox.events(shop) == []
    clock.advance(timedelta(minutes=1))
    created = await create_certificate(request, new_uow(), clock)
    created_event, activated_event = await outbox.events(shop)
    assert created_event == created
    assert isinstance(activated_event, CertificateActivated)
    assert (activated_event.payment_id, activated_event.activated_at) == (paid.payment_id, clock.now())
    certificate = await stored_certificate(new_uow, shop, request.certificate_id)
    assert (certificate.status, certificate.payment_id) == (Status.ACTIVE, paid.payment_id)


async def test_payments_parked_for_one_certificate_activate_it_once_and_refuse_the_rest(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = purchase(shop, clock)
    first, second = payment(request, clock), payment(request, clock)
    await activate_certificate(first, new_uow(), clock)
    clock.advance(timedelta(seconds=1))
    await activate_certificate(second, new_uow(), clock)
    await create_certificate(request, new_uow(), clock)
    created, activated, refused = await outbox.events(shop)
    assert isinstance(created, CertificateCreated)
    assert isinstance(activated, CertificateActivated)
    assert activated.payment_id == first.payment_id
    assert isinstance(refused, PaymentRejected)
    assert (refused.payment_id, refused.reason) == (second.payment_id, "not_pending")
    assert await balance_of(new_uow, request.certificate_id) == 5000


async def test_payments_parked_for_a_refused_purchase_are_refused_as_unknown_certificate(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = purchase(shop, clock, amount={"minor": 5000, "currency": "USD"})
    paid = payment(request, clock)
    await activate_certificate(paid, new_uow(), clock)
    await create_certificate(request, new_uow(), clock)
    rejected_purchase, rejected_payment = await outbox.events(shop)
    assert isinstance(rejected_purchase, PurchaseRejected)
    assert isinstance(rejected_payment, PaymentRejected)
    assert (rejected_payment.payment_id, rejected_payment.reason) == (paid.payment_id, "unknown_certificate")


async def test_a_payment_after_its_purchase_was_refused_is_refused_at_once_not_parked(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = purchase(shop, clock, amount={"minor": 5000, "currency": "USD"})
    assert isinstance(await create_certificate(request, new_uow(), clock), PurchaseRejected)
    await outbox.fresh(shop)
    paid = payment(request, clock)
    await activate_certificate(paid, new_uow(), clock)
    (refused,) = await outbox.fresh(shop)
    assert isinstance(refused, PaymentRejected)
    assert (refused.payment_id, refused.reason) == (paid.payment_id, "unknown_certificate")
    assert refused.detail == "the purchase request was rejected"
    async with new_uow() as uow:
        assert await uow.parked_payments.take_for(shop, request.certificate_id) == []


async def test_a_purchase_whose_parked_payment_fails_to_settle_leaves_no_event_and_is_decided_again(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No event without its change: certificate-created is already in the outbox when settling the
    parked payment fails, and goes with the rest of the transaction; the redelivered request, its
    inbox claim gone too, decides again and publishes both events."""
    request = purchase(shop, clock)
    paid = payment(request, clock)
    assert await activate_certificate(paid, new_uow(), clock) is None  # parked

    async def database_gone(*_: Any) -> None:
        raise ConnectionResetError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(purchase_handler, "settle_payment", database_gone)
        with pytest.raises(ConnectionResetError):
            await create_certificate(request, new_uow(), clock)
    assert await outbox.events(shop) == []
    assert await stored(new_uow, shop, request.certificate_id) is None

    created = await create_certificate(request, new_uow(), clock)
    assert isinstance(created, CertificateCreated)
    events = await outbox.events(shop)
    assert events[0] == created
    assert [(type(e), e.payment_id) for e in events[1:]] == [(CertificateActivated, paid.payment_id)]


async def test_a_payment_and_its_purchase_handled_at_the_same_moment_see_each_other(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = purchase(shop, clock)
    paid = payment(request, clock)
    await asyncio.gather(
        activate_certificate(paid, new_uow(), clock), create_certificate(request, new_uow(), clock)
    )
    events = await outbox.events(shop)
    assert sorted(type(e).__name__ for e in events) == ["CertificateActivated", "CertificateCreated"]
    assert (await stored_certificate(new_uow, shop, request.certificate_id)).payment_id == paid.payment_id


async def settle_all_overdue_payments(new_uow: NewUnitOfWork, clock: FixedClock) -> int:
    """Sweeps until nothing is overdue: the shared database may hold other tests' parked payments."""
    settled = 0
    while (count := await settle_overdue_payments(new_uow(), clock, grace=GRACE, batch_size=100)) > 0:
        settled += count
    return settled


async def test_a_parked_payment_whose_purchase_never_comes_is_refused_after_the_grace_period(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = purchase(shop, clock)
    paid = payment(request, clock)
    await activate_certificate(paid, new_uow(), clock)
    clock.advance(GRACE - timedelta(seconds=1))
    await settle_all_overdue_payments(new_uow, clock)
    assert await outbox.events(shop) == []
    clock.advance(timedelta(seconds=2))
    assert await settle_all_overdue_payments(new_uow, clock) >= 1
    (refused,) = await outbox.fresh(shop)
    assert isinstance(refused, PaymentRejected)
    assert (refused.payment_id, refused.reason) == (paid.payment_id, "unknown_certificate")
    created = await create_certificate(request, new_uow(), clock)  # too late: the payment was refunded
    assert await outbox.fresh(shop) == [created]
    assert (await stored_certificate(new_uow, shop, request.certificate_id)).status is Status.PENDING


