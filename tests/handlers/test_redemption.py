"""booking-redeem-request: one decision per request, a code spent at most once, the guessing limit."""


import asyncio
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy.exc import IntegrityError

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Status
from giftcert.domain.guessing import GuessingLimit
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.redemption import redeem_certificate
from giftcert.messaging.inbox import InboxKey
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import (
    CertificateRedeemed,
    RedemptionRejected,
)
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import (
    EUR_50,
    active,
    activity_of,
    balance_of,
    expired,
    payment,
    pending,
    redeem,
    redeemed,
    same_decision,
    stored_certificate,
    voided,
)


async def test_a_valid_code_typed_in_any_spelling_redeems_the_certificate_in_full(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    await outbox.fresh(shop)
    typed = " " + "-".join(certificate.code[i : i + 4] for i in (0, 4, 8)).lower() + " "
    request = redeem(shop, typed, clock, order_total=EUR_50)  # the total equals the certificate's amount
    reply = await redeem_certificate(request, new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, CertificateRedeemed)
    assert (reply.request_id, reply.order_id, reply.certificate_id) == (
        request.request_id, request.order_id, certificate.id,
    )
    assert (reply.code_last4, reply.amount_applied, reply.redeemed_at) == (
        certificate.code[-4:], certificate.amount.to_money(), clock.now(),
    )
    after = await stored_certificate(new_uow, shop, certificate.id)
    assert (after.status, after.redeemed_at) == (Status.REDEEMED, clock.now())
    assert await balance_of(new_uow, certificate.id) == 0
    assert (await activity_of(new_uow, certificate.id))[-1] == ActivityKind.REDEEMED
    (record,) = (await outbox.records(shop))[-1:]
    assert record.key == str(certificate.id)


@pytest.mark.parametrize("code", ["ABCD-EFGH-JKMN", "not a code"], ids=["well_formed", "malformed"])
async def test_an_unknown_code_is_refused_as_not_found(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, code: str
) -> None:
    request = redeem(shop, code, clock)
    reply = await redeem_certificate(request, new_uow(), clock)
    assert await outbox.events(shop) == [reply]
    assert isinstance(reply, RedemptionRejected)
    assert (reply.request_id, reply.order_id, reply.reason) == (request.request_id, request.order_id, "not_found")
    assert [r.key for r in await outbox.records(shop)] == [str(request.request_id)]


async def test_a_code_of_another_workspace_is_refused_as_not_found(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    elsewhere = f"ws-{uuid4().hex[:12]}"
    reply = await redeem_certificate(redeem(elsewhere, certificate.code, clock), new_uow(), clock)
    assert isinstance(reply, RedemptionRejected)
    assert reply.reason == "not_found"
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.ACTIVE


async def test_a_pending_certificate_is_refused_as_not_active(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = await pending(new_uow, clock, shop)
    code = (await stored_certificate(new_uow, shop, request.certificate_id)).code
    await outbox.fresh(shop)
    reply = await redeem_certificate(redeem(shop, code, clock), new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, RedemptionRejected)
    assert reply.reason == "not_active"


async def test_a_second_redeem_of_a_code_is_refused_as_already_redeemed(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await redeemed(new_uow, clock, shop)
    await outbox.fresh(shop)
    reply = await redeem_certificate(redeem(shop, certificate.code, clock, order_id="order-2"), new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, RedemptionRejected)
    assert reply.reason == "already_redeemed"
    assert await balance_of(new_uow, certificate.id) == 0


async def test_a_voided_certificate_is_refused_as_voided(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await voided(new_uow, clock, shop)
    reply = await redeem_certificate(redeem(shop, certificate.code, clock), new_uow(), clock)
    assert isinstance(reply, RedemptionRejected)
    assert reply.reason == "voided"
    assert (await outbox.events(shop))[-1] == reply


async def test_an_expired_certificate_is_refused_as_expired(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await expired(new_uow, clock, shop)
    reply = await redeem_certificate(redeem(shop, certificate.code, clock), new_uow(), clock)
    assert isinstance(reply, RedemptionRejected)
    assert reply.reason == "expired"
    assert (await outbox.events(shop))[-1] == reply


async def test_a_certificate_past_its_expiry_when_handled_is_refused_as_expired_before_any_tick(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    assert certificate.expires_at is not None
    request = redeem(shop, certificate.code, clock)  # made in time, handled too late
    clock.advance(certificate.expires_at - clock.now())
    reply = await redeem_certificate(request, new_uow(), clock)
    assert isinstance(reply, RedemptionRejected)
    assert reply.reason == "expired"
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.ACTIVE


async def test_a_request_made_after_the_expiry_is_refused_as_expired_even_when_handled_before(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    assert certificate.expires_at is not None
    request = redeem(shop, certificate.code, clock, requested_at=certificate.expires_at)
    reply = await redeem_certificate(request, new_uow(), clock)
    assert isinstance(reply, RedemptionRejected)
    assert reply.reason == "expired"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"order_total": {"minor": 4999, "currency": "EUR"}}, "exceeds_order_total"),
        ({"order_total": {"minor": 0, "currency": "EUR"}}, "exceeds_order_total"),
        ({"order_total": {"minor": 5000, "currency": "USD"}}, "currency_mismatch"),
        ({"segment": "cruises"}, "segment_not_allowed"),
        ({"segment": None}, "segment_not_allowed"),
    ],
    ids=["smaller_order", "empty_order", "order_in_another_currency", "another_segment", "no_segment"],
)
async def test_a_redemption_that_does_not_fit_the_order_is_refused_and_spends_nothing(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, changes: dict[str, Any], reason: str
) -> None:
    certificate = await active(new_uow, clock, shop, segment="tours")
    await outbox.fresh(shop)
    request = redeem(shop, certificate.code, clock, **({"segment": "tours"} | changes))
    reply = await redeem_certificate(request, new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, RedemptionRejected)
    assert reply.reason == reason
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.ACTIVE
    assert await balance_of(new_uow, certificate.id) == 5000


async def test_a_certificate_of_a_segment_redeems_for_that_segment(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop, segment="tours")
    reply = await redeem_certificate(redeem(shop, certificate.code, clock, segment="tours"), new_uow(), clock)
    assert isinstance(reply, CertificateRedeemed)


async def test_five_unknown_codes_on_one_order_throttle_that_order(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    await outbox.fresh(shop)
    for _ in range(GuessingLimit().failures):
        clock.advance(timedelta(seconds=10))
        await redeem_certificate(redeem(shop, "ABCD-EFGH-JKMN", clock), new_uow(), clock)
    assert [getattr(e, "reason", None) for e in await outbox.fresh(shop)] == ["not_found"] * 5
    throttled = await redeem_certificate(redeem(shop, certificate.code, clock), new_uow(), clock)
    assert await outbox.fresh(shop) == [throttled]
    assert isinstance(throttled, RedemptionRejected)
    assert throttled.reason == "too_many_attempts"
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.ACTIVE
    other_order = await redeem_certificate(redeem(shop, certificate.code, clock, order_id="order-2"), new_uow(), clock)
    assert isinstance(other_order, CertificateRedeemed)


async def test_the_guessing_limit_forgets_unknown_codes_older_than_its_window(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    for _ in range(GuessingLimit().failures):
        await redeem_certificate(redeem(shop, "ABCD-EFGH-JKMN", clock), new_uow(), clock)
    clock.advance(GuessingLimit().window)  # the failures are now exactly as old as the window
    reply = await redeem_certificate(redeem(shop, certificate.code, clock), new_uow(), clock)
    assert isinstance(reply, CertificateRedeemed)


async def test_refusals_of_a_real_code_do_not_count_as_guesses(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    small = {"minor": 100, "currency": "EUR"}
    for _ in range(GuessingLimit().failures + 1):
        reply = await redeem_certificate(redeem(shop, certificate.code, clock, order_total=small), new_uow(), clock)
        assert isinstance(reply, RedemptionRejected)
        assert reply.reason == "exceeds_order_total"
    reply = await redeem_certificate(redeem(shop, certificate.code, clock), new_uow(), clock)
    assert isinstance(reply, CertificateRedeemed)


async def test_a_repeated_redeem_request_gets_the_same_decision_again(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    await outbox.fresh(shop)
    request = redeem(shop, certificate.code, clock)
    first = await redeem_certificate(request, new_uow(), clock)
    clock.advance(timedelta(seconds=30))
    again = await redeem_certificate(request, new_uow(), clock)
    assert await outbox.fresh(shop) == [first, again]
    assert isinstance(again, CertificateRedeemed)
    assert same_decision(again, first)
    assert again.occurred_at == clock.now()
    assert await balance_of(new_uow, certificate.id) == 0


async def test_a_repeated_redeem_request_keeps_its_refusal_after_the_certificate_changed(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    bought = await pending(new_uow, clock, shop)
    code = (await stored_certificate(new_uow, shop, bought.certificate_id)).code
    request = redeem(shop, code, clock)
    first = await redeem_certificate(request, new_uow(), clock)
    await activate_certificate(payment(bought, clock), new_uow(), clock)
    await outbox.fresh(shop)
    again = await redeem_certificate(request, new_uow(), clock)
    assert await outbox.fresh(shop) == [again]
    assert isinstance(again, RedemptionRejected)
    assert again.reason == "not_active"
    assert same_decision(again, first)
    assert (await stored_certificate(new_uow, shop, bought.certificate_id)).status is Status.ACTIVE


async def test_exactly_one_of_concurrent_redeem_requests_for_a_code_succeeds(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    await outbox.fresh(shop)
    requests = [redeem(shop, certificate.code, clock, order_id=f"order-{n}") for n in range(5)]
    replies = await asyncio.gather(*(redeem_certificate(r, new_uow(), clock) for r in requests))
    assert sorted(replies, key=lambda e: e.event_id) == sorted(await outbox.fresh(shop), key=lambda e: e.event_id)
    assert sum(isinstance(r, CertificateRedeemed) for r in replies) == 1
    assert sorted(getattr(r, "reason", "") for r in replies) == ["", *["already_redeemed"] * 4]
    assert await balance_of(new_uow, certificate.id) == 0


async def test_a_redemption_that_fails_halfway_leaves_nothing_behind(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    """The ledger's unique (certificate, request) is shared by the payment's credit and the redeem's
    debit: a redeem request whose id is the payment id fails at the debit, after the certificate was
    saved as redeemed. The transaction must take everything back with it."""
    request_id = uuid4()
    bought = await pending(new_uow, clock, shop)
    await activate_certificate(payment(bought, clock, payment_id=str(request_id)), new_uow(), clock)
    code = (await stored_certificate(new_uow, shop, bought.certificate_id)).code
    await outbox.fresh(shop)
    with pytest.raises(IntegrityError):
        await redeem_certificate(redeem(shop, code, clock, request_id=request_id), new_uow(), clock)
    assert await outbox.fresh(shop) == []
    assert (await stored_certificate(new_uow, shop, bought.certificate_id)).status is Status.ACTIVE
    assert await balance_of(new_uow, bought.certificate_id) == 5000
    async with new_uow() as uow:  # the inbox claim went too: a retry decides anew
        assert await uow.inbox.claim(InboxKey("redeem", shop, str(request_id)), clock.now())


