"""Contract v2's redemption: a balance per certificate, the workspace's `redemption_mode`, the request's
optional `amount`, and what an order still owes across its certificates. One body, both stores."""

from typing import Any

import pytest

from giftcert.domain.certificate import Certificate, Status
from giftcert.ledger.redemption import redeem_certificate, redeem_certificates
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateRedeemed, Event, RedemptionRejected
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import EUR_50, active, balance_of, configure, redeem, stored_certificate


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


@pytest.fixture
async def partial(new_uow: NewUnitOfWork, clock: FixedClock, shop: str) -> str:
    """A workspace in `partial` redemption mode."""
    await configure(new_uow, clock, shop, redemption_mode="partial")
    return shop


async def _redeem(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str, code: str, **changes: Any) -> Event:
    return await redeem_certificate(redeem(workspace, code, clock, **changes), new_uow(), clock)


def _refused(reply: Event) -> str:
    assert isinstance(reply, RedemptionRejected), reply
    return reply.reason


async def _left(new_uow: NewUnitOfWork, certificate: Certificate) -> tuple[Status, int, int]:
    """Status, kept balance and the ledger's balance: the last two always agree."""
    after = await stored_certificate(new_uow, certificate.workspace_id, certificate.id)
    return after.status, after.balance_minor, await balance_of(new_uow, certificate.id)


async def test_in_partial_mode_an_amount_is_applied_and_the_rest_stays_active_for_a_later_order(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)  # EUR 50
    first = await _redeem(new_uow, clock, partial, certificate.code, order_id="o-1", order_total=eur(12000),
                          amount=eur(2000))
    assert isinstance(first, CertificateRedeemed)
    assert (first.amount_applied.minor, first.status_after, first.hold_id) == (2000, "active", None)
    assert first.balance_after is not None
    assert first.balance_after.minor == 3000
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 3000, 3000)
    # no amount: the lesser of what is available (30) and what the order owes (100)
    second = await _redeem(new_uow, clock, partial, certificate.code, order_id="o-2", order_total=eur(10000))
    assert isinstance(second, CertificateRedeemed)
    assert (second.amount_applied.minor, second.status_after) == (3000, "redeemed")
    assert await _left(new_uow, certificate) == (Status.REDEEMED, 0, 0)
    assert _refused(await _redeem(new_uow, clock, partial, certificate.code, order_id="o-3")) == "already_redeemed"
    assert await outbox.fresh(partial)


async def test_two_certificates_pay_one_order_and_never_more_than_its_total(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    one, two, three = [await active(new_uow, clock, partial) for _ in range(3)]  # EUR 50 each
    order = {"order_id": "trip-7", "order_total": eur(8000)}
    first = await _redeem(new_uow, clock, partial, one.code, **order)  # 50 of 80
    assert isinstance(first, CertificateRedeemed)
    assert first.amount_applied.minor == 5000
    # asked for 40 while the order owes 30
    assert _refused(await _redeem(new_uow, clock, partial, two.code, **order, amount=eur(4000))) == "exceeds_order_due"
    second = await _redeem(new_uow, clock, partial, two.code, **order)  # the default: what it still owes
    assert isinstance(second, CertificateRedeemed)
    assert second.amount_applied.minor == 3000
    assert await _left(new_uow, two) == (Status.ACTIVE, 2000, 2000)
    # paid in full: a third certificate has nothing left to pay
    assert _refused(await _redeem(new_uow, clock, partial, three.code, **order)) == "exceeds_order_due"
    assert await _left(new_uow, three) == (Status.ACTIVE, 5000, 5000)


async def test_one_batch_follows_what_each_order_still_owes(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    one, two = [await active(new_uow, clock, partial) for _ in range(2)]
    order = {"order_id": "trip-8", "order_total": eur(7000)}
    replies = await redeem_certificates(
        [redeem(partial, one.code, clock, **order), redeem(partial, two.code, clock, **order),
         redeem(partial, two.code, clock, **order)],
        new_uow(), clock,
    )
    applied = [r.amount_applied.minor if isinstance(r, CertificateRedeemed) else _refused(r) for r in replies]
    assert applied == [5000, 2000, "exceeds_order_due"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"order_total": eur(4000), "amount": eur(4500)}, "exceeds_order_total"),
        ({"order_total": eur(9000), "amount": eur(6000)}, "insufficient_balance"),
        ({"amount": eur(0)}, "invalid_amount"),
        ({"amount": eur(-100)}, "invalid_amount"),
        ({"amount": {"minor": 1000, "currency": "USD"}}, "invalid_amount"),
    ],
    ids=["more_than_the_order", "more_than_the_balance", "zero", "negative", "other_currency"],
)
async def test_an_amount_that_does_not_fit_is_refused_and_changes_nothing(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str, changes: dict[str, Any], reason: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    assert _refused(await _redeem(new_uow, clock, partial, certificate.code, **changes)) == reason
    assert await _left(new_uow, certificate) == (Status.ACTIVE, 5000, 5000)


async def test_the_order_total_comes_before_what_it_owes_which_comes_before_the_balance(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    paying, small = await active(new_uow, clock, partial), await active(new_uow, clock, partial, amount=eur(1000))
    order = {"order_id": "trip-9", "order_total": eur(6000)}
    paid = await _redeem(new_uow, clock, partial, paying.code, **order, amount=eur(4000))
    assert isinstance(paid, CertificateRedeemed)
    # owes 20; the small one has 10: 70 > total, 30 > due (and > balance), 15 > balance only
    assert _refused(await _redeem(new_uow, clock, partial, small.code, **order, amount=eur(7000))) == (
        "exceeds_order_total"
    )
    assert _refused(await _redeem(new_uow, clock, partial, small.code, **order, amount=eur(3000))) == (
        "exceeds_order_due"
    )
    assert _refused(await _redeem(new_uow, clock, partial, small.code, **order, amount=eur(1500))) == (
        "insufficient_balance"
    )


async def test_in_full_mode_an_amount_must_be_the_value_and_each_request_keeps_v1s_order_total_rule(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    one, two = await active(new_uow, clock, shop), await active(new_uow, clock, shop)
    order = {"order_id": "trip-10", "order_total": eur(8000)}
    assert _refused(await _redeem(new_uow, clock, shop, one.code, **order, amount=eur(2000))) == "invalid_amount"
    reply = await _redeem(new_uow, clock, shop, one.code, **order, amount=EUR_50)
    assert isinstance(reply, CertificateRedeemed)
    assert (reply.amount_applied.minor, reply.status_after) == (5000, "redeemed")
    assert reply.balance_after is not None
    assert reply.balance_after.minor == 0
    # v1: each request is checked against its own order total only (decision 26)
    assert isinstance(await _redeem(new_uow, clock, shop, two.code, **order), CertificateRedeemed)
    assert await _left(new_uow, one) == (Status.REDEEMED, 0, 0)
    assert await _left(new_uow, two) == (Status.REDEEMED, 0, 0)


async def test_a_certificate_partly_used_in_partial_mode_is_used_up_whole_in_full_mode(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    await _redeem(new_uow, clock, partial, certificate.code, order_id="a", amount=eur(1000))
    await configure(new_uow, clock, partial, redemption_mode="full")
    reply = await _redeem(new_uow, clock, partial, certificate.code, order_id="b", order_total=eur(4000))
    assert isinstance(reply, CertificateRedeemed)
    assert reply.amount_applied.minor == 4000
    assert await _left(new_uow, certificate) == (Status.REDEEMED, 0, 0)
