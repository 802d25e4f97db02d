"""A guesser of codes: 10,000 random codes find nothing and are throttled, on one order or on a new
order per guess, while honest checkouts go on (on one order's guesser) or resume once the window has
moved on (after a workspace-wide lockdown). Each throttled attempt counts in the metric and leaves a
log line; no log record names a code tried, in any spelling."""

import asyncio
import logging
import secrets
from collections import Counter
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from giftcert.domain.certificate import Certificate
from giftcert.domain.codes import ALPHABET, LENGTH, display_code
from giftcert.domain.guessing import GuessingLimit
from giftcert.ledger.redemption import redeem_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateRedeemed, Event
from tests.fakes import FakeUnitOfWorkFactory, FixedClock
from tests.handlers.steps import active, redeem
from tests.reliability import Recorder

pytestmark = pytest.mark.reliability

GUESSES = 10_000
LIMIT = GuessingLimit(failures=5, window=timedelta(minutes=10), workspace_failures=100)


def _on(new_uow: NewUnitOfWork) -> str:
    return "fake store" if isinstance(new_uow, FakeUnitOfWorkFactory) else "PostgreSQL"


def _random_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def _throttled(scope: str) -> float:
    return REGISTRY.get_sample_value("giftcert_redemptions_throttled_total", {"scope": scope}) or 0.0


def _outcome(reply: Event) -> str:
    return "redeemed" if isinstance(reply, CertificateRedeemed) else str(getattr(reply, "reason", "?"))


async def _guess(new_uow: NewUnitOfWork, clock: FixedClock, shop: str, order_id: str, tried: list[str]) -> str:
    code = _random_code()
    tried.append(code)
    request = redeem(shop, code, clock, order_id=order_id)
    return _outcome(await redeem_certificate(request, new_uow(), clock, LIMIT))


def _logged_codes(records: list[logging.LogRecord], codes: list[str]) -> list[str]:
    """The log lines that name any of `codes`, as typed or as printed (`ABCD-EFGH-JKMN`)."""
    spellings = {spelling for code in codes for spelling in (code, display_code(code))}
    lines = [record.getMessage() for record in records]
    return [line for line in lines if any(spelling in line for spelling in spellings)]


async def _checkout(new_uow: NewUnitOfWork, clock: FixedClock, shop: str, certificate: Certificate) -> str:
    request = redeem(shop, certificate.code, clock, order_id=f"honest-{certificate.id}")
    return _outcome(await redeem_certificate(request, new_uow(), clock, LIMIT))


async def test_ten_thousand_guesses_on_one_order_find_nothing_and_honest_checkouts_go_on(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str, caplog: pytest.LogCaptureFixture, reliability: Recorder
) -> None:
    honest = [await active(new_uow, clock, shop) for _ in range(5)]
    before = _throttled("order")
    outcomes: Counter[str] = Counter()
    checkouts = []
    tried: list[str] = []
    with caplog.at_level(logging.DEBUG, logger="giftcert"):
        for guess in range(GUESSES):
            outcomes[await _guess(new_uow, clock, shop, "order-of-a-guesser", tried)] += 1
            if guess % (GUESSES // len(honest)) == GUESSES // len(honest) - 1:
                checkouts.append(await _checkout(new_uow, clock, shop, honest[len(checkouts)]))
            clock.advance(timedelta(milliseconds=10))  # 100 s in all: well within one window
    assert outcomes == {"not_found": LIMIT.failures, "too_many_attempts": GUESSES - LIMIT.failures}
    assert checkouts == ["redeemed"] * len(honest)
    assert _throttled("order") - before == GUESSES - LIMIT.failures
    warnings = [r.getMessage() for r in caplog.records if "too many unknown codes" in r.getMessage()]
    assert len(warnings) == GUESSES - LIMIT.failures
    assert all("order-of-a-guesser" in w for w in warnings)
    assert _logged_codes(caplog.records, tried + [c.code for c in honest]) == []  # a code is a bearer secret
    reliability.record(
        f"10,000 random codes on one order ({_on(new_uow)})", injected=GUESSES,
        invariants=["nothing found", "throttled after 5", "honest checkouts redeemed", "metric and log per refusal"],
    )


async def test_guesses_on_a_new_order_each_are_throttled_workspace_wide_until_the_window_passes(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str, caplog: pytest.LogCaptureFixture, reliability: Recorder
) -> None:
    # 10,000 on the fake store; 2,000 on PostgreSQL, where each costs a transaction (~10 ms on CI)
    guesses = GUESSES if isinstance(new_uow, FakeUnitOfWorkFactory) else GUESSES // 5
    honest = await active(new_uow, clock, shop)
    before = _throttled("workspace")
    outcomes: Counter[str] = Counter()
    tried: list[str] = []
    with caplog.at_level(logging.DEBUG, logger="giftcert"):
        for guess in range(guesses):
            outcomes[await _guess(new_uow, clock, shop, f"order-{guess}", tried)] += 1
            clock.advance(timedelta(milliseconds=10))
    assert outcomes == {"not_found": LIMIT.workspace_failures, "too_many_attempts": guesses - LIMIT.workspace_failures}
    assert _throttled("workspace") - before == guesses - LIMIT.workspace_failures
    # the price of the workspace-wide limit: during the lockdown an honest checkout is refused too ...
    assert await _checkout(new_uow, clock, shop, honest) == "too_many_attempts"
    clock.advance(LIMIT.window)  # ... and goes through once the guesses have left the window
    assert await _checkout(new_uow, clock, shop, honest) == "redeemed"
    assert _logged_codes(caplog.records, [*tried, honest.code]) == []
    reliability.record(
        f"{guesses:,} random codes, a new order for each ({_on(new_uow)})", injected=guesses,
        invariants=["nothing found", "workspace throttled after 100", "honest checkout after the window"],
    )


CONCURRENT_GUESSES = 12


async def test_guesses_on_one_order_at_the_same_time_are_counted_one_after_another_and_never_pass_the_limit(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str, reliability: Recorder
) -> None:
    """Each guess in a transaction of its own, all at once: without the lock on the order, each
    would count the failures committed before it began, and more than five would get to look."""
    tried: list[str] = []
    swarm = [_guess(new_uow, clock, shop, "order-of-a-swarm", tried) for _ in range(3 * CONCURRENT_GUESSES)]
    # three rounds, one after another: the second and third start with the failures of the first
    rounds = [
        Counter(await asyncio.gather(*swarm[start : start + CONCURRENT_GUESSES]))
        for start in range(0, len(swarm), CONCURRENT_GUESSES)
    ]
    assert rounds[0] == {"not_found": LIMIT.failures, "too_many_attempts": CONCURRENT_GUESSES - LIMIT.failures}
    assert rounds[1:] == [{"too_many_attempts": CONCURRENT_GUESSES}] * 2
    recorded = await _failures_of(new_uow, shop, "order-of-a-swarm", clock)
    assert recorded == LIMIT.failures
    reliability.record(
        f"{CONCURRENT_GUESSES} guesses on one order at once, three times ({_on(new_uow)})",
        injected=3 * CONCURRENT_GUESSES, invariants=["at most 5 looked up", "5 failures recorded"],
    )


async def _failures_of(new_uow: NewUnitOfWork, shop: str, order_id: str, clock: FixedClock) -> int:
    async with new_uow() as uow:
        counts = await uow.redemption_failures.lock_and_count([(shop, order_id)], LIMIT.window_start(clock.now()))
    return counts.by_order.get((shop, order_id), 0)
