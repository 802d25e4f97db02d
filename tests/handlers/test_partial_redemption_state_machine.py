"""A stateful property test of contract v2's partial redemption: Hypothesis redeems random amounts of
random certificates on a few orders (alone or several in one batch) in a `partial` workspace, and checks
every reply against a small model written from the contract (v2, "Value, balance and what is available",
"Orders", the reason precedence), and the store after every step: balance = value - applied >= 0, the
kept balance equals the ledger's, a certificate is active while its balance is above zero and redeemed
at zero, an order never receives more than its total. On the fake store and on PostgreSQL.

As in test_ledger_state_machine.py, each machine owns an event loop and a workspace of its own."""

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.domain import rules
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.rules import Refusal
from giftcert.ledger import redemption, refund
from giftcert.ledger.redemption import redeem_certificates
from giftcert.ledger.refund import refund_certificates
from giftcert.ports import NewUnitOfWork
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.inbound import RefundCertificate
from giftcert_contracts.outbound import (
    CertificateRedeemed,
    CertificateRefunded,
    Event,
    RedemptionRejected,
    RefundRejected,
)
from tests.fakes import FakeUnitOfWorkFactory, FixedClock
from tests.handlers import steps
from tests.handlers.conftest import EVENT_SOURCE, START
from tests.reliability import Recorder

T = TypeVar("T")
ORDERS = {"trip-a": 6000, "trip-b": 15000, "trip-c": 2500}
"""Each order's total, the same in every request for it."""
VALUES = st.integers(min_value=2, max_value=20).map(lambda n: n * 500)  # EUR 10..100, the workspace's range
AMOUNTS = st.one_of(
    st.none(), st.none(),
    st.integers(min_value=1, max_value=12000).map(lambda m: (m, "EUR")),
    st.sampled_from([(0, "EUR"), (-500, "EUR"), (1000, "GBP")]),
)
REFUND_AMOUNTS = st.one_of(
    st.integers(min_value=1, max_value=6000).map(lambda m: (m, "EUR")), st.just((500, "CHF")),
)
INVARIANTS = ["each reply is the model's decision", "balance = value - applied >= 0 = the ledger's",
              "active while a balance is left", "an order never receives more than its total",
              "balance = value - applied + refunded >= 0; refunds of a redemption never exceed it"]


@dataclass
class Model:
    """The contract's rules for a `partial` workspace without holds."""

    values: dict[UUID, int] = field(default_factory=dict)
    applied: dict[UUID, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)

    def redeem(self, certificate_id: UUID, order_id: str, amount: tuple[int, str] | None) -> str | int:
        """The reason of the refusal, or the amount applied."""
        balance = self.values[certificate_id] - self.applied.get(certificate_id, 0)
        total = ORDERS[order_id]
        due = total - self.received.get(order_id, 0)
        if balance == 0:
            return "already_redeemed"
        if amount is not None and (amount[0] <= 0 or amount[1] != "EUR"):
            return "invalid_amount"
        wanted = min(balance, due) if amount is None else amount[0]
        if wanted > total:
            return "exceeds_order_total"
        if wanted > due or wanted <= 0:
            return "exceeds_order_due"
        if wanted > balance:
            return "insufficient_balance"
        self.applied[certificate_id] = self.applied.get(certificate_id, 0) + wanted
        self.received[order_id] = self.received.get(order_id, 0) + wanted
        return wanted

    # --- refunds (contract v2: `applied` and `received` are net of them, as the ledger's are) --------

    redemptions: dict[UUID, tuple[UUID, str, int]] = field(default_factory=dict)
    """Each redemption's request_id: its certificate, its order and what it applied."""
    refunded: dict[UUID, int] = field(default_factory=dict)
    """What was refunded of each redemption."""

    def refund(self, redemption_id: UUID, order_id: str, amount: tuple[int, str]) -> str | int:
        """The reason of the refusal, or the amount credited back (a `partial` workspace refunds any part)."""
        found = self.redemptions.get(redemption_id)
        if found is None or found[1] != order_id:
            return "unknown_redemption"
        certificate_id, _, applied = found
        if amount[1] != "EUR":
            return "currency_mismatch"
        if self.refunded.get(redemption_id, 0) + amount[0] > applied:
            return "exceeds_redeemed"
        self.refunded[redemption_id] = self.refunded.get(redemption_id, 0) + amount[0]
        self.applied[certificate_id] -= amount[0]
        self.received[order_id] -= amount[0]
        return amount[0]


@dataclass
class StepCounter:
    steps: int = 0


class PartialRedemptionMachine(RuleBasedStateMachine):
    certificates = Bundle("certificates")

    def __init__(self, database_url: str | None, counter: StepCounter) -> None:
        super().__init__()
        self.counter = counter
        self.loop = asyncio.new_event_loop()
        self.engine: AsyncEngine | None = None
        self.new_uow: NewUnitOfWork
        if database_url is None:
            self.new_uow = FakeUnitOfWorkFactory(event_source=EVENT_SOURCE)
        else:
            self.engine = engine = self.run(self._open_engine(database_url))
            self.new_uow = UnitOfWorkFactory(engine, event_source=EVENT_SOURCE)
        self.clock = FixedClock(START)
        self.workspace = f"ws-pr-{uuid4().hex[:12]}"
        self.model = Model()
        self.run(steps.configure(self.new_uow, self.clock, self.workspace, redemption_mode="partial"))

    @staticmethod
    async def _open_engine(database_url: str) -> AsyncEngine:
        return create_async_engine(database_url)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            if self.engine is not None:
                self.run(self.engine.dispose())
            self.run(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()

    @rule(target=certificates, value=VALUES)
    def buy(self, value: int) -> Certificate:
        self.counter.steps += 1
        certificate = self.run(steps.active(self.new_uow, self.clock, self.workspace, amount={"minor": value,
                                                                                               "currency": "EUR"}))
        self.model.values[certificate.id] = value
        return certificate

    @rule(certificate=certificates, order_id=st.sampled_from(sorted(ORDERS)), amount=AMOUNTS)
    def redeem(self, certificate: Certificate, order_id: str, amount: tuple[int, str] | None) -> None:
        self._redeem([(certificate, order_id, amount)])

    @rule(requests=st.lists(
        st.tuples(certificates, st.sampled_from(sorted(ORDERS)), AMOUNTS), min_size=2, max_size=5
    ))
    def redeem_several_in_one_batch(self, requests: list[tuple[Certificate, str, tuple[int, str] | None]]) -> None:
        self._redeem(requests)

    def _redeem(self, requests: list[tuple[Certificate, str, tuple[int, str] | None]]) -> None:
        self.counter.steps += 1
        commands = [
            steps.redeem(
                self.workspace, c.code, self.clock, order_id=order_id,
                order_total={"minor": ORDERS[order_id], "currency": "EUR"},
                **({} if amount is None else {"amount": {"minor": amount[0], "currency": amount[1]}}),
            )
            for c, order_id, amount in requests
        ]
        replies = self.run(redeem_certificates(commands, self.new_uow(), self.clock))
        for (certificate, order_id, amount), reply in zip(requests, replies, strict=True):
            expected = self.model.redeem(certificate.id, order_id, amount)
            assert _outcome(reply) == expected, (certificate.id, order_id, amount)
            if isinstance(reply, CertificateRedeemed):
                self.model.redemptions[reply.request_id] = (certificate.id, order_id, reply.amount_applied.minor)
                left = self.model.values[certificate.id] - self.model.applied[certificate.id]
                assert reply.balance_after is not None
                assert (reply.balance_after.minor, reply.status_after) == (left, "active" if left else "redeemed")

    @precondition(lambda self: bool(self.model.redemptions))
    @rule(data=st.data(), count=st.integers(min_value=1, max_value=3))
    def refund(self, data: st.DataObject, count: int) -> None:
        """Refunds (one batch) of redemptions made so far, some on the wrong order or of no redemption."""
        self.counter.steps += 1
        known = list(self.model.redemptions)  # in the order made: the same on every replay
        requests = []
        for _ in range(count):
            index = data.draw(st.integers(min_value=-1, max_value=len(known) - 1), label="redemption (-1: none)")
            redemption_id = known[index] if index >= 0 else uuid4()
            found = self.model.redemptions.get(redemption_id)
            order_id = data.draw(
                st.sampled_from(sorted(ORDERS)) if found is None else st.one_of(
                    st.just(found[1]), st.just(found[1]), st.sampled_from(sorted(ORDERS))
                ),
                label="order",
            )
            requests.append((redemption_id, order_id, data.draw(REFUND_AMOUNTS, label="amount")))
        commands = [
            RefundCertificate.model_validate({
                "workspace_id": self.workspace, "request_id": uuid4(), "order_id": order_id,
                "redemption_id": redemption_id, "amount": {"minor": amount[0], "currency": amount[1]},
                "reason": "tour cancelled", "requested_at": self.clock.now(),
            })
            for redemption_id, order_id, amount in requests
        ]
        replies = self.run(refund_certificates(commands, self.new_uow(), self.clock))
        for (redemption_id, order_id, amount), reply in zip(requests, replies, strict=True):
            expected = self.model.refund(redemption_id, order_id, amount)
            if isinstance(reply, CertificateRefunded):
                assert reply.amount_refunded.minor == expected, (redemption_id, order_id, amount)
                certificate_id = self.model.redemptions[redemption_id][0]
                left = self.model.values[certificate_id] - self.model.applied[certificate_id]
                assert (reply.balance_after.minor, reply.status_after) == (left, "active")
            else:
                assert isinstance(reply, RefundRejected)
                assert reply.reason == expected, (redemption_id, order_id, amount)

    @invariant()
    def refunds_of_a_redemption_never_exceed_it(self) -> None:
        """Model and ledger agree on what was refunded of each redemption, never more than it applied."""
        pairs = {(c, str(r)): r for r, (c, _, _) in self.model.redemptions.items()}

        async def stored() -> dict[tuple[UUID, str], int]:
            async with self.new_uow() as uow:
                return await uow.ledger.refunded(set(pairs))

        refunded = self.run(stored())
        for pair, redemption_id in pairs.items():
            applied = self.model.redemptions[redemption_id][2]
            assert refunded.get(pair, 0) == self.model.refunded.get(redemption_id, 0) <= applied

    @invariant()
    def balances_and_orders_follow_the_ledger(self) -> None:
        self.run(self._check_store())

    async def _check_store(self) -> None:
        async with self.new_uow() as uow:
            stored = await uow.certificates.get_many(list(self.model.values))
            for certificate_id, value in self.model.values.items():
                certificate = stored[certificate_id]
                left = value - self.model.applied.get(certificate_id, 0)
                assert left >= 0
                assert (certificate.balance_minor, await uow.ledger.balance(certificate_id)) == (left, left)
                assert certificate.status is (Status.ACTIVE if left else Status.REDEEMED)
            received = await uow.ledger.applied_to_orders({(self.workspace, o) for o in ORDERS})
        for order_id, total in ORDERS.items():
            assert received.get((self.workspace, order_id), 0) == self.model.received.get(order_id, 0) <= total


def _outcome(reply: Event) -> str | int:
    if isinstance(reply, CertificateRedeemed):
        return reply.amount_applied.minor
    assert isinstance(reply, RedemptionRejected)
    return reply.reason


def run_machine(database_url: str | None, counter: StepCounter, run_settings: settings) -> None:
    run_state_machine_as_test(
        lambda: PartialRedemptionMachine(database_url, counter),  # type: ignore[arg-type] # any factory will do
        settings=run_settings,
    )


def machine_settings(*, max_examples: int, step_count: int, **changes: Any) -> settings:
    return settings(
        max_examples=max_examples, stateful_step_count=step_count, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        **changes,
    )


@pytest.mark.reliability
def test_random_partial_redemptions_follow_the_contracts_rules_on_the_fake_store(reliability: Recorder) -> None:
    counter = StepCounter()
    try:
        run_machine(None, counter, machine_settings(max_examples=150, step_count=30))
    finally:
        reliability.record(
            "random partial redemptions against a model (fake)", injected=counter.steps, invariants=INVARIANTS
        )


@pytest.mark.integration
@pytest.mark.reliability
def test_random_partial_redemptions_follow_the_contracts_rules_on_postgres(
    handlers_database_url: str, reliability: Recorder
) -> None:
    counter = StepCounter()
    try:
        run_machine(handlers_database_url, counter, machine_settings(max_examples=30, step_count=30))
    finally:
        reliability.record(
            "random partial redemptions against a model (postgres)", injected=counter.steps, invariants=INVARIANTS
        )


def test_the_machine_finds_an_order_paid_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """With what the order's other certificates applied forgotten, an order receives more than its
    total: the machine must notice."""

    def amount_forgetting_the_order(certificate: Certificate, **facts: Any) -> Refusal | Any:
        return rules.amount_to_apply(certificate, **(facts | {"order_applied": 0}))

    monkeypatch.setattr(redemption, "amount_to_apply", amount_forgetting_the_order)
    mutant = machine_settings(max_examples=500, step_count=30, derandomize=True, phases=[Phase.generate],
                              report_multiple_bugs=False)
    with pytest.raises(AssertionError):
        run_machine(None, StepCounter(), mutant)


def test_the_machine_finds_a_redemption_refunded_more_than_it_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    """With what was refunded of a redemption forgotten, its refunds add up to more than it applied:
    the machine must notice."""

    def refusal_forgetting_earlier_refunds(certificate: Certificate | None, **facts: Any) -> Refusal | None:
        return rules.refuse_refund(certificate, **(facts | {"refunded_before": 0}))

    monkeypatch.setattr(refund, "refuse_refund", refusal_forgetting_earlier_refunds)
    mutant = machine_settings(max_examples=500, step_count=30, derandomize=True, phases=[Phase.generate],
                              report_multiple_bugs=False)
    with pytest.raises(AssertionError):
        run_machine(None, StepCounter(), mutant)
