"""booking-hold-request (contract v2): what a hold reserves, for how long, and every reason it is
refused, in their precedence. One body, both stores."""

from datetime import timedelta
from typing import Any

import pytest

from giftcert.domain.activity import ActivityKind
from giftcert.ledger.hold import hold_certificates
from giftcert.ledger.redemption import redeem_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateRedeemed, Event, HoldPlaced, HoldRejected, RedemptionRejected
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.hold_steps import available_of, entries_of, eur, hold, hold_request, placed
from tests.handlers.steps import (
    active,
    activity_of,
    balance_of,
    configure,
    expired,
    pending,
    redeem,
    redeemed,
    same_decision,
    stored_certificate,
    voided,
)


@pytest.fixture
async def partial(new_uow: NewUnitOfWork, clock: FixedClock, shop: str) -> str:
    await configure(new_uow, clock, shop, redemption_mode="partial")
    return shop


def _refused(reply: Event) -> tuple[str, object]:
    assert isinstance(reply, HoldRejected), reply
    return reply.reason, reply.certificate_id


async def test_a_hold_reserves_its_amount_until_it_expires_and_leaves_the_balance_as_it_is(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)  # EUR 50
    reply = await placed(new_uow, clock, partial, certificate.code, amount=eur(2000), order_id="trip-1")
    assert reply.hold_id == reply.request_id
    assert (reply.certificate_id, reply.order_id, reply.code_last4) == (certificate.id, "trip-1", certificate.code[-4:])
    assert (reply.amount_held.minor, reply.available_after.minor) == (2000, 3000)
    assert reply.hold_expires_at == clock.now() + timedelta(seconds=900)  # the workspace's default
    after = await stored_certificate(new_uow, partial, certificate.id)
    assert (after.balance_minor, await balance_of(new_uow, certificate.id)) == (5000, 5000)
    assert await available_of(new_uow, certificate.id, clock.now()) == 3000
    assert (await entries_of(new_uow, certificate.id))[-1] == ("hold", -2000)
    assert (await activity_of(new_uow, certificate.id))[-1] is ActivityKind.HELD
    (event,) = (await outbox.fresh(partial))[-1:]
    assert isinstance(event, HoldPlaced)
    sequences = await outbox.sequences(partial)
    assert sequences[-1][1:] == (certificate.id, 3)  # created 1, activated 2, hold-placed 3


async def test_hold_seconds_are_one_to_the_workspaces_maximum(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    await configure(new_uow, clock, partial, redemption_mode="partial", hold_seconds_default=60, hold_seconds_max=600)
    certificate = await active(new_uow, clock, partial)
    default = await placed(new_uow, clock, partial, certificate.code, amount=eur(1000))
    assert default.hold_expires_at == clock.now() + timedelta(seconds=60)
    longest = await placed(new_uow, clock, partial, certificate.code, amount=eur(1000), hold_seconds=600)
    assert longest.hold_expires_at == clock.now() + timedelta(seconds=600)
    for seconds in (0, -5, 601):
        reply = await hold(new_uow, clock, partial, certificate.code, amount=eur(1000), hold_seconds=seconds)
        assert _refused(reply) == ("invalid_hold_seconds", certificate.id)


async def test_in_full_mode_a_hold_takes_the_whole_value_and_refuses_the_certificate_to_every_other_order(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)  # full mode: the default
    reply = await placed(new_uow, clock, shop, certificate.code, order_id="trip-1")
    assert (reply.amount_held.minor, reply.available_after.minor) == (5000, 0)
    refused = await hold(new_uow, clock, shop, certificate.code, order_id="trip-2")
    assert _refused(refused) == ("insufficient_balance", certificate.id)
    redemption = await redeem_certificate(redeem(shop, certificate.code, clock, order_id="trip-3"), new_uow(), clock)
    assert isinstance(redemption, RedemptionRejected)
    assert redemption.reason == "insufficient_balance"
    assert _refused(await hold(new_uow, clock, shop, certificate.code, amount=eur(2000))) == (
        "invalid_amount", certificate.id,
    )


async def test_the_amounts_reasons_come_in_the_contracts_precedence(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    one = await active(new_uow, clock, partial)  # EUR 50
    two = await active(new_uow, clock, partial)
    order = {"order_id": "trip-9", "order_total": eur(6000)}
    await placed(new_uow, clock, partial, one.code, amount=eur(4000), **order)  # the order owes 20 more
    # 70 > the total 60: exceeds_order_total, though it also exceeds what is due and available
    assert _refused(await hold(new_uow, clock, partial, two.code, amount=eur(7000), **order))[0] == (
        "exceeds_order_total"
    )
    # 30 > the 20 due (and <= 50 available): exceeds_order_due
    assert _refused(await hold(new_uow, clock, partial, two.code, amount=eur(3000), **order))[0] == "exceeds_order_due"
    # one's 10 available < 15 asked, on another order that owes it
    reply = await hold(new_uow, clock, partial, one.code, amount=eur(1500), order_id="trip-10")
    assert _refused(reply) == ("insufficient_balance", one.id)
    # no amount: the lesser of what is available (50) and what the order owes (20)
    assert (await placed(new_uow, clock, partial, two.code, **order)).amount_held.minor == 2000


@pytest.mark.parametrize("amount", [eur(0), eur(-100), {"minor": 1000, "currency": "GBP"}], ids=str)
async def test_a_zero_negative_or_foreign_amount_is_invalid(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str, amount: dict[str, Any]
) -> None:
    certificate = await active(new_uow, clock, partial)
    assert _refused(await hold(new_uow, clock, partial, certificate.code, amount=amount)) == (
        "invalid_amount", certificate.id,
    )


async def test_a_certificate_with_nothing_left_is_already_redeemed_in_both_modes(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    spent = await redeemed(new_uow, clock, shop)
    assert _refused(await hold(new_uow, clock, shop, spent.code)) == ("already_redeemed", spent.id)
    await configure(new_uow, clock, shop, redemption_mode="partial")
    assert _refused(await hold(new_uow, clock, shop, spent.code, amount=eur(100))) == ("already_redeemed", spent.id)


async def test_unknown_pending_voided_and_expired_certificates_are_refused_as_a_redeem_is(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    assert _refused(await hold(new_uow, clock, shop, "ABCD-EFGH-JKMN")) == ("not_found", None)
    unpaid = await pending(new_uow, clock, shop)
    async with new_uow() as uow:
        unpaid_certificate = await uow.certificates.get(shop, unpaid.certificate_id)
    assert unpaid_certificate is not None
    assert _refused(await hold(new_uow, clock, shop, unpaid_certificate.code)) == ("not_active", unpaid.certificate_id)
    cancelled = await voided(new_uow, clock, shop)
    assert _refused(await hold(new_uow, clock, shop, cancelled.code)) == ("voided", cancelled.id)
    lapsed = await expired(new_uow, clock, shop)
    assert _refused(await hold(new_uow, clock, shop, lapsed.code)) == ("expired", lapsed.id)


async def test_unknown_codes_tried_for_holds_count_toward_the_guessing_limit(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    for n in range(5):
        assert _refused(await hold(new_uow, clock, shop, f"ABCD-EFGH-JKM{'NPQRS'[n]}", order_id="guess"))[0] == (
            "not_found"
        )
    assert _refused(await hold(new_uow, clock, shop, certificate.code, order_id="guess")) == ("too_many_attempts", None)
    assert isinstance(await hold(new_uow, clock, shop, certificate.code, order_id="honest"), HoldPlaced)


async def test_a_repeated_hold_request_gets_its_first_decision_and_holds_nothing_more(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    request = hold_request(partial, certificate.code, clock, amount=eur(1000))
    (first,) = await hold_certificates([request], new_uow(), clock)
    (again,) = await hold_certificates([request], new_uow(), clock)
    assert same_decision(again, first)
    assert await available_of(new_uow, certificate.id, clock.now()) == 4000
    twice = await hold_certificates([request.model_copy(update={"request_id": request.request_id})] * 2, new_uow(),
                                    clock)
    assert all(same_decision(reply, first) for reply in twice)


async def test_ten_holds_of_different_certificates_in_one_batch_never_exceed_the_orders_total(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificates = [await active(new_uow, clock, partial) for _ in range(10)]  # EUR 50 each
    requests = [
        hold_request(partial, c.code, clock, order_id="big-trip", order_total=eur(12000), amount=eur(2000))
        for c in certificates
    ]
    replies = await hold_certificates(requests, new_uow(), clock)
    placed_replies = [r for r in replies if isinstance(r, HoldPlaced)]
    assert sum(r.amount_held.minor for r in placed_replies) == 12000
    assert [r.reason for r in replies if isinstance(r, HoldRejected)] == ["exceeds_order_due"] * 4


async def test_the_orders_due_counts_its_other_certificates_applied_value_and_live_holds(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    one, two, three = [await active(new_uow, clock, partial) for _ in range(3)]
    order = {"order_id": "trip-4", "order_total": eur(9000)}
    applied = await redeem_certificate(redeem(partial, one.code, clock, **order, amount=eur(3000)), new_uow(), clock)
    assert isinstance(applied, CertificateRedeemed)
    await placed(new_uow, clock, partial, two.code, **order, amount=eur(5000))
    assert (await placed(new_uow, clock, partial, three.code, **order)).amount_held.minor == 1000
    # and a redeem on the order counts the holds too
    left = await redeem_certificate(redeem(partial, one.code, clock, **order), new_uow(), clock)
    assert isinstance(left, RedemptionRejected)
    assert left.reason == "exceeds_order_due"


async def test_a_redeem_applies_what_is_available_not_the_balance(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    await placed(new_uow, clock, partial, certificate.code, amount=eur(3000), order_id="trip-1")
    too_much = await redeem_certificate(
        redeem(partial, certificate.code, clock, order_id="trip-2", order_total=eur(9000), amount=eur(2500)),
        new_uow(), clock,
    )
    assert isinstance(too_much, RedemptionRejected)
    assert too_much.reason == "insufficient_balance"
    rest = await redeem_certificate(
        redeem(partial, certificate.code, clock, order_id="trip-2", order_total=eur(9000)), new_uow(), clock
    )
    assert isinstance(rest, CertificateRedeemed)
    assert (rest.amount_applied.minor, rest.status_after) == (2000, "active")
    nothing = await redeem_certificate(
        redeem(partial, certificate.code, clock, order_id="trip-3", order_total=eur(9000)), new_uow(), clock
    )
    assert isinstance(nothing, RedemptionRejected)
    assert nothing.reason == "insufficient_balance"


async def test_a_hold_past_its_expiry_reserves_nothing_even_before_a_tick_saw_it(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)  # full mode: a hold takes it all
    first = await placed(new_uow, clock, shop, certificate.code, order_id="trip-1", hold_seconds=60)
    clock.advance(timedelta(seconds=59))
    assert _refused(await hold(new_uow, clock, shop, certificate.code, order_id="trip-2"))[0] == "insufficient_balance"
    clock.advance(timedelta(seconds=1))  # at hold_expires_at the hold is over
    assert clock.now() == first.hold_expires_at
    second = await placed(new_uow, clock, shop, certificate.code, order_id="trip-2")
    assert second.available_after.minor == 0
