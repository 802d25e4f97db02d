"""Contract v2's refunds: a refund names its redemption by (order_id, redemption_id) and credits the
certificate it came from, never more than the redemption applied. One body, both stores."""

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate, Status
from giftcert.ledger.expiry import check_expiries
from giftcert.ledger.redemption import redeem_certificate
from giftcert.ledger.refund import refund_certificate, refund_certificates
from giftcert.ledger.voiding import void_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.inbound import RefundCertificate
from giftcert_contracts.outbound import (
    CertificateRedeemed,
    CertificateRefunded,
    Event,
    RefundRejected,
    VoidRejected,
)
from giftcert_contracts.topics import Topic
from tests.fakes import FixedClock
from tests.handlers import hold_steps
from tests.handlers.conftest import Outbox
from tests.handlers.steps import (
    active,
    activity_of,
    balance_of,
    configure,
    redeem,
    same_decision,
    stored_certificate,
    tick,
    void,
)

ORDER = "trip-9"


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


def refund(workspace: str, redemption_id: UUID, clock: FixedClock, **changes: Any) -> RefundCertificate:
    return RefundCertificate.model_validate(
        {
            "workspace_id": workspace,
            "request_id": uuid4(),
            "order_id": ORDER,
            "redemption_id": redemption_id,
            "amount": eur(2000),
            "reason": "tour cancelled",
            "requested_at": clock.now(),
        }
        | changes
    )


@pytest.fixture
async def partial(new_uow: NewUnitOfWork, clock: FixedClock, shop: str) -> str:
    await configure(new_uow, clock, shop, redemption_mode="partial")
    return shop


async def _redeemed(
    new_uow: NewUnitOfWork, clock: FixedClock, certificate: Certificate, minor: int | None = None
) -> CertificateRedeemed:
    amount = {} if minor is None else {"amount": eur(minor)}
    total = eur(10000)
    command = redeem(certificate.workspace_id, certificate.code, clock, order_id=ORDER, order_total=total, **amount)
    reply = await redeem_certificate(command, new_uow(), clock)
    assert isinstance(reply, CertificateRedeemed), reply
    return reply


def _refused(reply: Event) -> tuple[str, UUID | None]:
    assert isinstance(reply, RefundRejected), reply
    return reply.reason, reply.certificate_id


async def _left(new_uow: NewUnitOfWork, certificate: Certificate) -> tuple[Status, int, int]:
    after = await stored_certificate(new_uow, certificate.workspace_id, certificate.id)
    return after.status, after.balance_minor, await balance_of(new_uow, certificate.id)


async def test_a_refund_credits_the_certificate_its_redemption_came_from_and_names_it_in_the_ledger(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)  # EUR 50
    redemption = await _redeemed(new_uow, clock, certificate, 3000)
    reply = await refund_certificate(refund(partial, redemption.request_id, clock), new_uow(), clock)
    assert isinstance(reply, CertificateRefunded)
    assert (reply.certificate_id, reply.redemption_id, reply.amount_refunded.minor) == (
        certificate.id, redemption.request_id, 2000
    )
    assert (reply.balance_after.minor, reply.status_after, reply.code_last4) == (4000, "active", certificate.code_last4)
    assert reply.expires_at == certificate.expires_at
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 4000, 4000)
    assert (await activity_of(new_uow, certificate.id))[-1] is ActivityKind.REFUNDED
    async with new_uow() as uow:
        assert await uow.ledger.refunded({(certificate.id, str(redemption.request_id))}) == {
            (certificate.id, str(redemption.request_id)): 2000
        }
    records = [r for r in await outbox.records(partial) if r.topic is Topic.CERTIFICATE_REFUNDED]
    assert [r.key for r in records] == [str(certificate.id)]
    assert records[0].event.sequence is not None


async def test_a_capture_is_a_redemption_named_by_the_captures_request_id_on_the_holds_order(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)  # EUR 50
    held = await hold_steps.placed(
        new_uow, clock, partial, certificate.code, order_id=ORDER, amount=eur(4000), order_total=eur(10000)
    )
    captured = await hold_steps.capture(new_uow, clock, partial, held.hold_id, amount=eur(3000))
    assert isinstance(captured, CertificateRedeemed), captured
    async with new_uow() as uow:
        key = (partial, ORDER, str(captured.request_id))
        found = await uow.ledger.redemptions({key, (partial, ORDER, str(held.hold_id))})
    assert {k: (r.certificate_id, r.applied.minor) for k, r in found.items()} == {key: (certificate.id, 3000)}
    assert _refused(await refund_certificate(refund(partial, held.hold_id, clock), new_uow(), clock)) == (
        "unknown_redemption", None
    )
    too_much = refund(partial, captured.request_id, clock, amount=eur(3001))
    assert _refused(await refund_certificate(too_much, new_uow(), clock)) == ("exceeds_redeemed", certificate.id)
    reply = await refund_certificate(refund(partial, captured.request_id, clock), new_uow(), clock)
    assert isinstance(reply, CertificateRefunded), reply
    assert (reply.certificate_id, reply.redemption_id, reply.balance_after.minor) == (
        certificate.id, captured.request_id, 4000
    )
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 4000, 4000)


async def test_a_repeated_refund_request_gets_its_first_decision_and_credits_once(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    redemption = await _redeemed(new_uow, clock, certificate, 3000)
    command = refund(partial, redemption.request_id, clock)
    await refund_certificate(command, new_uow(), clock)
    await refund_certificate(command, new_uow(), clock)
    first, again = [r.event for r in await outbox.records(partial) if r.topic is Topic.CERTIFICATE_REFUNDED]
    assert same_decision(again, first)
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 4000, 4000)


async def test_a_refund_making_the_balance_positive_makes_a_redeemed_certificate_active(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)  # full mode: the whole value
    redemption = await _redeemed(new_uow, clock, certificate)
    assert await _left(new_uow, certificate) == (Status.REDEEMED, 0, 0)
    reply = await refund_certificate(refund(shop, redemption.request_id, clock, amount=eur(5000)), new_uow(), clock)
    assert isinstance(reply, CertificateRefunded)
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 5000, 5000)
    again = await redeem_certificate(redeem(shop, certificate.code, clock, order_id="another"), new_uow(), clock)
    assert isinstance(again, CertificateRedeemed)


async def test_an_expired_certificate_refunded_is_active_for_the_refund_validity_days(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    await configure(new_uow, clock, partial, redemption_mode="partial", refund_validity_days=45)
    certificate = await active(new_uow, clock, partial)
    redemption = await _redeemed(new_uow, clock, certificate, 5000)  # all of it
    await _redeemed(new_uow, clock, await active(new_uow, clock, partial), 1000)  # another one, left active
    assert certificate.expires_at is not None
    clock.advance(certificate.expires_at - clock.now() + timedelta(days=1))
    assert await check_expiries(tick(partial, clock.now()), new_uow, batch_size=10) == 1  # the other one
    partly = await active(new_uow, clock, partial)
    used = await _redeemed(new_uow, clock, partly, 1000)
    assert partly.expires_at is not None
    clock.advance(partly.expires_at - clock.now())
    assert await check_expiries(tick(partial, clock.now()), new_uow, batch_size=10) == 1
    assert (await _left(new_uow, partly))[0] is Status.EXPIRED
    clock.advance(timedelta(days=3))
    reply = await refund_certificate(refund(partial, used.request_id, clock, amount=eur(1000)), new_uow(), clock)
    assert isinstance(reply, CertificateRefunded)
    assert reply.expires_at == clock.now() + timedelta(days=45)
    after = await stored_certificate(new_uow, partial, partly.id)
    assert (after.status, after.balance_minor, after.expires_at, after.expired_at) == (
        Status.ACTIVE, 5000, clock.now() + timedelta(days=45), None
    )
    # a redeemed certificate past its expiry comes back for the refund's validity too
    late = await refund_certificate(refund(partial, redemption.request_id, clock, amount=eur(500)), new_uow(), clock)
    assert isinstance(late, CertificateRefunded)
    assert late.expires_at == clock.now() + timedelta(days=45)


async def test_a_refund_naming_no_redemption_of_its_order_is_unknown_redemption(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    redemption = await _redeemed(new_uow, clock, certificate, 3000)
    other_order = refund(partial, redemption.request_id, clock, order_id="another-order")
    assert _refused(await refund_certificate(other_order, new_uow(), clock)) == ("unknown_redemption", None)
    unknown = refund(partial, uuid4(), clock)
    assert _refused(await refund_certificate(unknown, new_uow(), clock)) == ("unknown_redemption", None)
    elsewhere = refund(f"{partial}-x", redemption.request_id, clock)
    assert _refused(await refund_certificate(elsewhere, new_uow(), clock)) == ("unknown_redemption", None)
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 2000, 2000)


async def test_refunds_of_one_redemption_never_add_up_to_more_than_it_applied(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    redemption = await _redeemed(new_uow, clock, certificate, 3000)
    first = await refund_certificate(refund(partial, redemption.request_id, clock), new_uow(), clock)  # 20 of 30
    assert isinstance(first, CertificateRefunded)
    too_much = refund(partial, redemption.request_id, clock, amount=eur(1001))
    assert _refused(await refund_certificate(too_much, new_uow(), clock)) == ("exceeds_redeemed", certificate.id)
    rest = await refund_certificate(refund(partial, redemption.request_id, clock, amount=eur(1000)), new_uow(), clock)
    assert isinstance(rest, CertificateRefunded)
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 5000, 5000)
    one_more = refund(partial, redemption.request_id, clock, amount=eur(1))
    assert _refused(await refund_certificate(one_more, new_uow(), clock)) == ("exceeds_redeemed", certificate.id)


async def test_refunds_of_one_redemption_in_one_batch_are_decided_in_arrival_order(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    redemption = await _redeemed(new_uow, clock, certificate, 3000)
    commands = [refund(partial, redemption.request_id, clock) for _ in range(2)]  # 20 + 20 of 30
    first, second = await refund_certificates(commands, new_uow(), clock)
    assert isinstance(first, CertificateRefunded)
    assert _refused(second) == ("exceeds_redeemed", certificate.id)
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 4000, 4000)


async def test_in_full_mode_a_redemption_is_refunded_whole_or_not_at_all(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    redemption = await _redeemed(new_uow, clock, certificate)  # 50
    part = refund(shop, redemption.request_id, clock, amount=eur(2000))
    assert _refused(await refund_certificate(part, new_uow(), clock)) == ("partial_refund_not_allowed", certificate.id)
    more = refund(shop, redemption.request_id, clock, amount=eur(6000))
    assert _refused(await refund_certificate(more, new_uow(), clock)) == ("exceeds_redeemed", certificate.id)
    assert await _left(new_uow, certificate) == (Status.REDEEMED, 0, 0)


async def test_a_refund_in_another_currency_than_its_redemption_is_currency_mismatch(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    redemption = await _redeemed(new_uow, clock, certificate, 3000)
    in_chf = refund(partial, redemption.request_id, clock, amount={"minor": 2000, "currency": "CHF"})
    assert _refused(await refund_certificate(in_chf, new_uow(), clock)) == ("currency_mismatch", certificate.id)
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 2000, 2000)


async def test_a_voided_certificate_is_refused_a_refund(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    redemption = await _redeemed(new_uow, clock, certificate, 3000)
    assert not isinstance(await void_certificate(void(partial, certificate.id), new_uow(), clock), VoidRejected)
    reply = await refund_certificate(refund(partial, redemption.request_id, clock), new_uow(), clock)
    assert _refused(reply) == ("voided", certificate.id)
    assert await _left(new_uow, certificate) == (Status.VOIDED, 2000, 2000)
