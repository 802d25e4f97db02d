"""A stateful property test of contract v2's partial redemption, holds, refunds and voids: Hypothesis
redeems random amounts of random certificates on a few orders (alone or several in one batch) in a
`partial` workspace, places holds (alone or several in one batch), captures them in full or in part,
releases them, lets the clock pass their expiry and ticks, refunds redemptions and captures (several
in one batch, some on the wrong order, of no redemption or in another currency), voids and reactivates
certificates (one with a live hold is refused `held`), and checks every reply against a small model
written from the contract (v2, "Value, balance and what is available", "Orders", "Rules (additional)",
the reason precedence, holds' reasons), and the store after every step: balance = value - applied +
refunded >= 0, the kept balance equals the ledger's, available = balance - live holds >= 0, a hold's
ledger entries are open only while it is `live`, a certificate is active while its balance is above
zero and redeemed at zero (unless voided), an order never receives (and holds) more than its total,
refunds of a redemption never exceed what it applied. On the fake store and on PostgreSQL.

As in test_ledger_state_machine.py, each machine owns an event loop and a workspace of its own."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, MultipleResults, invariant, multiple, precondition, rule
from pydantic import ValidationError

from giftcert.domain import rules
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.hold import Hold, HoldState
from giftcert.domain.rules import Refusal
from giftcert.ledger import hold as holding
from giftcert.ledger import redemption, refund, voiding
from giftcert.ledger.capture import capture_holds
from giftcert.ledger.expiry import check_expiries
from giftcert.ledger.hold import hold_certificates
from giftcert.ledger.redemption import redeem_certificates
from giftcert.ledger.refund import refund_certificates
from giftcert.ledger.release import release_holds
from giftcert.ledger.voiding import reactivate_certificate, void_certificate
from giftcert.store.ledger import HOLD_KINDS
from giftcert_contracts.inbound import RefundCertificate
from giftcert_contracts.outbound import (
    CaptureRejected,
    CertificateReactivated,
    CertificateRedeemed,
    CertificateRefunded,
    CertificateVoided,
    Event,
    HoldPlaced,
    HoldRejected,
    HoldReleased,
    ReactivateRejected,
    RedemptionRejected,
    RefundRejected,
    ReleaseRejected,
    VoidRejected,
)
from tests.handlers import hold_steps, machine, steps
from tests.handlers.machine import HandlerMachine, StepCounter, machine_settings
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
HOLD_SECONDS = st.sampled_from([None, None, 60, 300, 1800, 0, 86_401])
"""The workspace's default (900) and maximum (86,400): 0 and 86,401 are refused."""
REFUND_AMOUNTS = st.one_of(
    st.integers(min_value=1, max_value=6000).map(lambda m: (m, "EUR")), st.just((500, "CHF")),
)
CLOCK_STEPS = st.sampled_from([timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
                               timedelta(minutes=20)])
INVARIANTS = ["each reply is the model's decision", "balance = value - applied >= 0 = the ledger's",
              "available = balance - live holds >= 0", "a hold's entries are open while it is live",
              "active while a balance is left", "an order never receives (or holds) more than its total",
              "balance = value - applied + refunded >= 0; refunds of a redemption never exceed it",
              "a certificate with a live hold is not voided (held)"]


@dataclass
class ModelHold:
    certificate_id: UUID
    order_id: str
    amount: int
    expires_at: datetime
    state: str = "live"
    """live, captured, released, expired (as a tick marks it)."""

    def live(self, now: datetime) -> bool:
        return self.state == "live" and now < self.expires_at


@dataclass
class Model:
    """The contract's rules for a `partial` workspace, with holds and refunds. `applied` and
    `received` are net of refunds, as the ledger's are."""

    values: dict[UUID, int] = field(default_factory=dict)
    applied: dict[UUID, int] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    holds: dict[UUID, ModelHold] = field(default_factory=dict)
    redemptions: dict[UUID, tuple[UUID, str, int]] = field(default_factory=dict)
    """Each redemption by its request_id (a redeem's, or a capture's): its certificate, its order and
    what it applied."""
    refunded: dict[UUID, int] = field(default_factory=dict)
    """What was refunded of each redemption."""
    voided: set[UUID] = field(default_factory=set)

    def balance(self, certificate_id: UUID) -> int:
        return self.values[certificate_id] - self.applied.get(certificate_id, 0)

    def available(self, certificate_id: UUID, now: datetime) -> int:
        held = sum(h.amount for h in self.holds.values() if h.certificate_id == certificate_id and h.live(now))
        return self.balance(certificate_id) - held

    def order_held(self, order_id: str, now: datetime) -> int:
        return sum(h.amount for h in self.holds.values() if h.order_id == order_id and h.live(now))

    def _amount(
        self, certificate_id: UUID, order_id: str, amount: tuple[int, str] | None, now: datetime
    ) -> str | int:
        """What a redeem or a hold may take (the precedence of reasons), or why not."""
        available = self.available(certificate_id, now)
        total = ORDERS[order_id]
        due = total - self.received.get(order_id, 0) - self.order_held(order_id, now)
        if amount is not None and (amount[0] <= 0 or amount[1] != "EUR"):
            return "invalid_amount"
        wanted = min(available, due) if amount is None else amount[0]
        if wanted > total:
            return "exceeds_order_total"
        if wanted > due or due <= 0:
            return "exceeds_order_due"
        if wanted > available or wanted <= 0:
            return "insufficient_balance"
        return wanted

    def redeem(
        self, redemption_id: UUID, certificate_id: UUID, order_id: str, amount: tuple[int, str] | None, now: datetime
    ) -> str | int:
        """The reason of the refusal, or the amount applied."""
        if (refused := self._refused_by_status(certificate_id)) is not None:
            return refused
        wanted = self._amount(certificate_id, order_id, amount, now)
        if isinstance(wanted, int):
            self._apply(redemption_id, certificate_id, order_id, wanted)
        return wanted

    def hold(
        self, hold_id: UUID, certificate_id: UUID, order_id: str, amount: tuple[int, str] | None,
        seconds: int | None, now: datetime,
    ) -> str | int:
        if (refused := self._refused_by_status(certificate_id)) is not None:
            return refused
        if seconds is not None and not 1 <= seconds <= 86_400:
            return "invalid_hold_seconds"
        wanted = self._amount(certificate_id, order_id, amount, now)
        if isinstance(wanted, int):
            lasting = timedelta(seconds=900 if seconds is None else seconds)
            self.holds[hold_id] = ModelHold(certificate_id, order_id, wanted, now + lasting)
        return wanted

    def _ended(self, hold: ModelHold, now: datetime) -> str | None:
        if hold.state != "live":
            return {"captured": "already_captured", "released": "hold_released", "expired": "hold_expired"}[hold.state]
        return None if hold.live(now) else "hold_expired"

    def capture(self, capture_id: UUID, hold_id: UUID, amount: tuple[int, str] | None, now: datetime) -> str | int:
        """A capture is a redemption named by its own request_id (`capture_id`)."""
        hold = self.holds[hold_id]
        if (ended := self._ended(hold, now)) is not None:
            return ended
        if amount is not None and (amount[0] <= 0 or amount[1] != "EUR"):
            return "invalid_amount"
        taken = hold.amount if amount is None else amount[0]
        if taken > hold.amount:
            return "amount_exceeds_hold"
        hold.state = "captured"
        self._apply(capture_id, hold.certificate_id, hold.order_id, taken)
        return taken

    def release(self, hold_id: UUID, now: datetime) -> str | int:
        hold = self.holds[hold_id]
        if (ended := self._ended(hold, now)) is not None:
            return "already_captured" if ended == "already_captured" else ended
        hold.state = "released"
        return hold.amount

    def tick(self, now: datetime) -> set[UUID]:
        expired = {i for i, h in self.holds.items() if h.state == "live" and h.expires_at <= now}
        for hold_id in expired:
            self.holds[hold_id].state = "expired"
        return expired

    def _refused_by_status(self, certificate_id: UUID) -> str | None:
        if certificate_id in self.voided:
            return "voided"
        return "already_redeemed" if self.balance(certificate_id) == 0 else None

    def void(self, certificate_id: UUID, now: datetime) -> str:
        """The reason of the refusal, or "done"."""
        if certificate_id in self.voided:
            return "already_voided"
        if self.balance(certificate_id) == 0:
            return "already_redeemed"
        if self.available(certificate_id, now) < self.balance(certificate_id):
            return "held"
        self.voided.add(certificate_id)
        return "done"

    def reactivate(self, certificate_id: UUID) -> str:
        if certificate_id not in self.voided:
            return "not_voided"
        self.voided.remove(certificate_id)
        return "done"

    def refund(self, redemption_id: UUID, order_id: str, amount: tuple[int, str]) -> str | int:
        """The reason of the refusal, or the amount credited back (a `partial` workspace refunds any part)."""
        found = self.redemptions.get(redemption_id)
        if found is None or found[1] != order_id:
            return "unknown_redemption"
        certificate_id, _, applied = found
        if certificate_id in self.voided:
            return "voided"
        if amount[1] != "EUR":
            return "currency_mismatch"
        if self.refunded.get(redemption_id, 0) + amount[0] > applied:
            return "exceeds_redeemed"
        self.refunded[redemption_id] = self.refunded.get(redemption_id, 0) + amount[0]
        self.applied[certificate_id] -= amount[0]
        self.received[order_id] -= amount[0]
        return amount[0]

    def _apply(self, redemption_id: UUID, certificate_id: UUID, order_id: str, minor: int) -> None:
        self.redemptions[redemption_id] = (certificate_id, order_id, minor)
        self.applied[certificate_id] = self.applied.get(certificate_id, 0) + minor
        self.received[order_id] = self.received.get(order_id, 0) + minor


class PartialRedemptionMachine(HandlerMachine):
    certificates = Bundle("certificates")
    holds = Bundle("holds")

    def __init__(self, database_url: str | None, counter: StepCounter) -> None:
        super().__init__(database_url, counter)
        self.workspace = f"ws-pr-{uuid4().hex[:12]}"
        self.model = Model()
        self.run(steps.configure(self.new_uow, self.clock, self.workspace, redemption_mode="partial"))

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
        for command, (certificate, order_id, amount), reply in zip(commands, requests, replies, strict=True):
            expected = self.model.redeem(command.request_id, certificate.id, order_id, amount, self.clock.now())
            assert _outcome(reply) == expected, (certificate.id, order_id, amount)
            if isinstance(reply, CertificateRedeemed):
                left = self.model.values[certificate.id] - self.model.applied[certificate.id]
                assert reply.balance_after is not None
                assert (reply.balance_after.minor, reply.status_after) == (left, "active" if left else "redeemed")

    @rule(target=holds, certificate=certificates, order_id=st.sampled_from(sorted(ORDERS)), amount=AMOUNTS,
          seconds=HOLD_SECONDS)
    def hold(
        self, certificate: Certificate, order_id: str, amount: tuple[int, str] | None, seconds: int | None
    ) -> MultipleResults[UUID]:
        return self._hold([(certificate, order_id, amount, seconds)])

    @rule(target=holds, requests=st.lists(
        st.tuples(certificates, st.sampled_from(sorted(ORDERS)), AMOUNTS, HOLD_SECONDS), min_size=2, max_size=5
    ))
    def hold_several_in_one_batch(
        self, requests: list[tuple[Certificate, str, tuple[int, str] | None, int | None]]
    ) -> MultipleResults[UUID]:
        return self._hold(requests)

    def _hold(
        self, requests: list[tuple[Certificate, str, tuple[int, str] | None, int | None]]
    ) -> MultipleResults[UUID]:
        self.counter.steps += 1
        commands = [
            hold_steps.hold_request(
                self.workspace, c.code, self.clock, order_id=order_id,
                order_total={"minor": ORDERS[order_id], "currency": "EUR"},
                **({} if amount is None else {"amount": {"minor": amount[0], "currency": amount[1]}}),
                **({} if seconds is None else {"hold_seconds": seconds}),
            )
            for c, order_id, amount, seconds in requests
        ]
        replies = self.run(hold_certificates(commands, self.new_uow(), self.clock))
        placed = []
        for command, (certificate, order_id, amount, seconds), reply in zip(commands, requests, replies, strict=True):
            now = self.clock.now()
            expected = self.model.hold(command.request_id, certificate.id, order_id, amount, seconds, now)
            assert _outcome(reply) == expected, (certificate.id, order_id, amount, seconds)
            if isinstance(reply, HoldPlaced):
                assert reply.available_after.minor == self.model.available(certificate.id, now)
                assert reply.hold_expires_at == self.model.holds[reply.hold_id].expires_at
                placed.append(reply.hold_id)
        return multiple(*placed)

    @rule(hold_id=holds, amount=st.one_of(st.none(), st.none(), AMOUNTS))
    def capture(self, hold_id: UUID, amount: tuple[int, str] | None) -> None:
        self.counter.steps += 1
        command = hold_steps.capture_request(
            self.workspace, hold_id, self.clock,
            **({} if amount is None else {"amount": {"minor": amount[0], "currency": amount[1]}}),
        )
        (reply,) = self.run(capture_holds([command], self.new_uow(), self.clock))
        expected = self.model.capture(command.request_id, hold_id, amount, self.clock.now())
        assert _outcome(reply) == expected, (hold_id, amount)

    @rule(hold_id=holds)
    def release(self, hold_id: UUID) -> None:
        self.counter.steps += 1
        (reply,) = self.run(release_holds([hold_steps.release_request(self.workspace, hold_id)], self.new_uow(),
                                          self.clock))
        assert _outcome(reply) == self.model.release(hold_id, self.clock.now()), hold_id

    @precondition(lambda self: bool(self.model.redemptions))
    @rule(data=st.data(), count=st.integers(min_value=1, max_value=3))
    def refund(self, data: st.DataObject, count: int) -> None:
        """Refunds (one batch) of redemptions and captures made so far, some on the wrong order, of no
        redemption or in another currency."""
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
            within = REFUND_AMOUNTS if found is None else st.integers(min_value=1, max_value=found[2]).map(
                lambda m: (m, "EUR")
            )
            amount = data.draw(st.one_of(within, within, REFUND_AMOUNTS), label="amount")
            requests.append((redemption_id, order_id, amount))
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
            assert _outcome(reply) == expected, (redemption_id, order_id, amount)
            if isinstance(reply, CertificateRefunded):
                certificate_id = self.model.redemptions[redemption_id][0]
                assert reply.certificate_id == certificate_id
                left = self.model.balance(certificate_id)
                assert (reply.balance_after.minor, reply.status_after) == (left, "active")

    @rule(certificate=certificates)
    def void(self, certificate: Certificate) -> None:
        """An operator voids a certificate: refused (`held`) while a live hold reserves part of it."""
        self.counter.steps += 1
        reply = self.run(void_certificate(steps.void(self.workspace, certificate.id), self.new_uow(), self.clock))
        assert _outcome(reply) == self.model.void(certificate.id, self.clock.now()), certificate.id

    @rule(certificate=certificates)
    def reactivate(self, certificate: Certificate) -> None:
        self.counter.steps += 1
        command = steps.reactivate(self.workspace, certificate.id)
        reply = self.run(reactivate_certificate(command, self.new_uow(), self.clock))
        assert _outcome(reply) == self.model.reactivate(certificate.id), certificate.id

    @rule(by=CLOCK_STEPS)
    def time_passes(self, by: timedelta) -> None:
        self.clock.advance(by)

    @rule()
    def tick(self) -> None:
        self.counter.steps += 1
        now = self.clock.now()
        self.run(check_expiries(steps.tick(self.workspace, now), self.new_uow, batch_size=2))
        self.model.tick(now)

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
        now = self.clock.now()
        async with self.new_uow() as uow:
            stored = await uow.certificates.get_many(list(self.model.values))
            held = await uow.holds.live_on(list(self.model.values), now)
            for certificate_id, value in self.model.values.items():
                certificate = stored[certificate_id]
                left = value - self.model.applied.get(certificate_id, 0)
                assert left >= 0
                assert (certificate.balance_minor, await uow.ledger.balance(certificate_id)) == (left, left)
                if certificate_id in self.model.voided:
                    assert certificate.status is Status.VOIDED
                else:
                    assert certificate.status is (Status.ACTIVE if left else Status.REDEEMED)
                available = left - held.get(certificate_id, 0)
                assert available == self.model.available(certificate_id, now) >= 0
            for hold_id, expected in self.model.holds.items():
                hold = await uow.holds.get(self.workspace, hold_id)
                assert hold is not None
                assert (hold.state.value, hold.amount.minor, hold.expires_at) == (
                    expected.state, expected.amount, expected.expires_at,
                )
            received = await uow.ledger.applied_to_orders({(self.workspace, o) for o in ORDERS})
            order_held = await uow.holds.held_for_orders({(self.workspace, o) for o in ORDERS}, now)
        for order_id, total in ORDERS.items():
            assert received.get((self.workspace, order_id), 0) == self.model.received.get(order_id, 0) <= total
            assert order_held.get((self.workspace, order_id), 0) == self.model.order_held(order_id, now)
            assert self.model.received.get(order_id, 0) + self.model.order_held(order_id, now) <= total
        for certificate_id in self.model.values:
            entries = await hold_steps.entries_of(self.new_uow, certificate_id)
            open_holds = sum(
                h.amount for h in self.model.holds.values() if h.certificate_id == certificate_id and h.state == "live"
            )
            assert sum(minor for kind, minor in entries if kind in HOLD_KINDS) == -open_holds


def _outcome(reply: Event) -> str | int:
    if isinstance(reply, CertificateRedeemed):
        return reply.amount_applied.minor
    if isinstance(reply, HoldPlaced):
        return reply.amount_held.minor
    if isinstance(reply, HoldReleased):
        return reply.amount_released.minor
    if isinstance(reply, CertificateRefunded):
        return reply.amount_refunded.minor
    if isinstance(reply, CertificateVoided | CertificateReactivated):
        return "done"
    assert isinstance(
        reply,
        RedemptionRejected | HoldRejected | CaptureRejected | ReleaseRejected | RefundRejected | VoidRejected
        | ReactivateRejected,
    )
    return reply.reason


def run_machine(database_url: str | None, counter: StepCounter, run_settings: settings) -> None:
    machine.run_machine(PartialRedemptionMachine, database_url, counter, run_settings)


@pytest.mark.reliability
def test_random_partial_redemptions_follow_the_contracts_rules_on_the_fake_store(reliability: Recorder) -> None:
    counter = StepCounter()
    try:
        run_machine(None, counter, machine_settings(max_examples=150, step_count=30))
    finally:
        reliability.record(
            "random partial redemptions, holds, refunds and voids against a model (fake)", injected=counter.steps,
            invariants=INVARIANTS,
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
            "random partial redemptions, holds, refunds and voids against a model (postgres)", injected=counter.steps,
            invariants=INVARIANTS,
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


MUTANT = machine_settings(max_examples=500, step_count=30, derandomize=True, phases=[Phase.generate],
                          report_multiple_bugs=False)


def test_the_machine_finds_a_hold_blind_to_the_certificates_other_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """With what the certificate's live holds reserve forgotten, a hold takes value already held (its
    reply then cannot even say what is available: a negative balance fails validation)."""

    def amount_blind_to_holds(certificate: Certificate, **facts: Any) -> Refusal | Any:
        return rules.amount_to_apply(certificate, **(facts | {"held": 0}))

    monkeypatch.setattr(holding, "amount_to_apply", amount_blind_to_holds)
    with pytest.raises((AssertionError, ValidationError)):
        run_machine(None, StepCounter(), MUTANT)


def test_the_machine_finds_a_hold_blind_to_what_the_order_received_or_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the order's applied value and live holds forgotten, an order is held more than its total."""

    def amount_forgetting_the_order(certificate: Certificate, **facts: Any) -> Refusal | Any:
        return rules.amount_to_apply(certificate, **(facts | {"order_applied": 0}))

    monkeypatch.setattr(holding, "amount_to_apply", amount_forgetting_the_order)
    with pytest.raises(AssertionError):
        run_machine(None, StepCounter(), MUTANT)


def test_the_machine_finds_a_hold_that_stays_live_past_its_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a hold judged live until a tick marks it (no lazy expiry), an expired hold still reserves
    value and is still captured."""

    def live_until_a_tick(hold: Hold, now: Any) -> bool:
        del now
        return hold.state is HoldState.LIVE

    monkeypatch.setattr(Hold, "is_live", live_until_a_tick)
    with pytest.raises(AssertionError):
        run_machine(None, StepCounter(), MUTANT)


def test_the_machine_finds_a_redemption_refunded_more_than_it_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    """With what was refunded of a redemption forgotten, its refunds add up to more than it applied:
    the machine must notice."""

    def refusal_forgetting_earlier_refunds(certificate: Certificate | None, **facts: Any) -> Refusal | None:
        return rules.refuse_refund(certificate, **(facts | {"refunded_before": 0}))

    monkeypatch.setattr(refund, "refuse_refund", refusal_forgetting_earlier_refunds)
    with pytest.raises(AssertionError):
        run_machine(None, StepCounter(), MUTANT)


def test_the_machine_finds_a_certificate_voided_under_a_live_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """With what the certificate's live holds reserve forgotten, a held certificate is voided: the
    machine must notice."""

    def refusal_blind_to_holds(certificate: Certificate | None, *, held: int = 0) -> Refusal | None:
        del held
        return rules.refuse_void(certificate)

    monkeypatch.setattr(voiding, "refuse_void", refusal_blind_to_holds)
    with pytest.raises(AssertionError):
        run_machine(None, StepCounter(), MUTANT)
