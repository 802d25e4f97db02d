"""The balance inquiry's rules, on the fake store and on PostgreSQL: what a code is worth now; an
unknown code counted as a redemption's would be, per workspace and per asking address; a throttled
inquiry refused before any look-up; what live holds reserve left out of `available`."""


import pytest

from giftcert.domain.guessing import GuessingLimit, ThrottleScope
from giftcert.ledger.redemption import redeem_certificate
from giftcert.operations.balance import BalanceInquiry, CodeNotFoundError, TooManyAttemptsError, inquire_balance
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import RedemptionRejected
from tests.fakes import FixedClock
from tests.handlers.hold_steps import eur, placed
from tests.handlers.steps import active, configure, redeem, redeemed

LIMIT = GuessingLimit(failures=2, workspace_failures=3)


async def test_a_code_in_any_spelling_answers_its_balance_and_status(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    spelled = f" {certificate.code[:4].lower()}-{certificate.code[4:8]} {certificate.code[8:]} "
    found = await inquire_balance(BalanceInquiry(shop, spelled), new_uow(), clock, LIMIT)
    assert (found.code_last4, found.status) == (certificate.code_last4, "active")
    assert found.balance == found.available == certificate.amount
    assert found.expires_at == certificate.expires_at
    used = await redeemed(new_uow, clock, shop)
    after = await inquire_balance(BalanceInquiry(shop, used.code), new_uow(), clock, LIMIT)
    assert (after.status, after.balance.minor) == ("redeemed", 0)


async def test_unknown_codes_by_inquiry_throttle_the_asker_then_the_workspace_and_its_redemptions(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    for _ in range(LIMIT.failures):
        with pytest.raises(CodeNotFoundError):
            await inquire_balance(BalanceInquiry(shop, "ABCDEFGHJKMN", asker="10.0.0.1"), new_uow(), clock, LIMIT)
    with pytest.raises(TooManyAttemptsError) as by_address:
        await inquire_balance(BalanceInquiry(shop, certificate.code, asker="10.0.0.1"), new_uow(), clock, LIMIT)
    assert by_address.value.scope is ThrottleScope.ORDER
    assert (await inquire_balance(BalanceInquiry(shop, certificate.code), new_uow(), clock, LIMIT)).status
    with pytest.raises(CodeNotFoundError):
        await inquire_balance(BalanceInquiry(shop, "ABCDEFGHJKMP"), new_uow(), clock, LIMIT)
    with pytest.raises(TooManyAttemptsError) as by_workspace:
        await inquire_balance(BalanceInquiry(shop, certificate.code), new_uow(), clock, LIMIT)
    assert by_workspace.value.scope is ThrottleScope.WORKSPACE
    refused = await redeem_certificate(redeem(shop, certificate.code, clock), new_uow(), clock, LIMIT)
    assert isinstance(refused, RedemptionRejected)
    assert refused.reason == "too_many_attempts"


async def test_what_live_holds_reserve_is_not_available(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    await configure(new_uow, clock, shop, redemption_mode="partial")
    await placed(new_uow, clock, shop, certificate.code, amount=eur(1200))
    found = await inquire_balance(BalanceInquiry(shop, certificate.code), new_uow(), clock, LIMIT)
    assert (found.balance.minor, found.available.minor) == (certificate.amount.minor, certificate.amount.minor - 1200)
