"""Contract v2 on both doors: every new inbound row (hold, capture, release, refund, redeem's `amount`)
and every reason the v2 section names, decided the same whether the booking platform sends the message
on Kafka or POSTs the route with a booking key. Over the real broker and PostgreSQL: the session's
services consume the topics, the API runs in process on the same database.

Each case is one rule of the contract, run once per door: the case sets up its certificates in a
workspace of its own (every booking step on the door under test), asks the door, and gets a
`Decision`: the event's topic and its fields (on Kafka the reply event; over HTTP the 200 body, or the
409's `error.decision` with `error.code` its reason, and the same event published on the topic). Both
doors are held to the same expected decision and to the contract's field list of that event."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.api_key import Scope
from giftcert.operations.api_keys import create_api_key
from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.api.app import build_api
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap
from tests.scenario import Bought, balance_and_available, buy, configure, first_reply

pytestmark = pytest.mark.integration

DOORS = ("kafka", "http", "http-key-header")
"""The Kafka topic; the HTTP route with the key in the body; the route with it as the Idempotency-Key header."""
VALUE = 5000  # what tests.scenario.buy pays: EUR 50
VOLATILE = frozenset({"event_id", "occurred_at", "sequence"})

# The v2 section's outbound table (v1's rows for certificate-redeemed and redemption-rejected, plus v2's
# additions; `certificate_id` on the v2 `-rejected` events by the rule "where the request reached a
# certificate"), besides workspace_id, event_id, occurred_at and sequence.
FIELDS: dict[Topic, frozenset[str]] = {
    Topic.CERTIFICATE_REDEEMED: frozenset({
        "request_id", "order_id", "certificate_id", "code_last4", "amount_applied", "redeemed_at",
        "hold_id", "balance_after", "status_after",
    }),
    Topic.REDEMPTION_REJECTED: frozenset({"request_id", "order_id", "reason", "detail"}),
    Topic.HOLD_PLACED: frozenset({
        "request_id", "hold_id", "order_id", "certificate_id", "code_last4", "amount_held", "available_after",
        "hold_expires_at",
    }),
    Topic.HOLD_REJECTED: frozenset({"request_id", "order_id", "reason", "detail", "certificate_id"}),
    Topic.CAPTURE_REJECTED: frozenset({"request_id", "hold_id", "reason", "detail", "certificate_id"}),
    Topic.HOLD_RELEASED: frozenset({"request_id", "hold_id", "certificate_id", "amount_released", "available_after"}),
    Topic.RELEASE_REJECTED: frozenset({"request_id", "hold_id", "reason", "detail", "certificate_id"}),
    Topic.CERTIFICATE_REFUNDED: frozenset({
        "request_id", "order_id", "redemption_id", "certificate_id", "code_last4", "amount_refunded",
        "balance_after", "status_after", "expires_at",
    }),
    Topic.REFUND_REJECTED: frozenset({"request_id", "order_id", "reason", "detail", "certificate_id"}),
}


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


@dataclass(frozen=True)
class Command:
    topic: Topic
    path: str
    accepted: Topic
    refused: Topic


REDEEM = Command(Topic.BOOKING_REDEEM_REQUEST, "/redemptions", Topic.CERTIFICATE_REDEEMED, Topic.REDEMPTION_REJECTED)
HOLD = Command(Topic.BOOKING_HOLD_REQUEST, "/holds", Topic.HOLD_PLACED, Topic.HOLD_REJECTED)
CAPTURE = Command(Topic.BOOKING_CAPTURE_REQUEST, "/captures", Topic.CERTIFICATE_REDEEMED, Topic.CAPTURE_REJECTED)
RELEASE = Command(Topic.BOOKING_RELEASE_REQUEST, "/releases", Topic.HOLD_RELEASED, Topic.RELEASE_REJECTED)
REFUND = Command(Topic.BOOKING_REFUND_REQUEST, "/refunds", Topic.CERTIFICATE_REFUNDED, Topic.REFUND_REJECTED)


@dataclass(frozen=True)
class Decision:
    topic: Topic
    body: dict[str, Any]
    """The event's fields but the volatile ones (event_id, occurred_at, sequence)."""

    @property
    def reason(self) -> Any:
        return self.body.get("reason")


def _decided(topic: Topic, event: dict[str, Any]) -> Decision:
    return Decision(topic, {name: value for name, value in event.items() if name not in VOLATILE})


async def _first_reply(wire: Wire, topics: tuple[Topic, ...], request_id: str) -> Decision:
    topic, body = await first_reply(wire, topics, request_id)
    if body.get("certificate_id") is not None:  # an event that names a certificate is numbered
        assert isinstance(body.get("sequence"), int), body
    return _decided(topic, body)


@dataclass
class Door:
    """One door of the service, as the booking platform uses it, in one workspace."""

    name: str
    wire: Wire
    db: AsyncEngine
    api: httpx.AsyncClient
    headers: dict[str, str]
    workspace: str

    async def ask(self, command: Command, request: dict[str, Any]) -> Decision:
        if self.name == "kafka":
            await self.wire.send(command.topic, request)
            return await _first_reply(self.wire, (command.accepted, command.refused), request["request_id"])
        body, headers = self._over_http(request)
        answered = await self.api.post(f"/v1/workspaces/{self.workspace}{command.path}", headers=headers, json=body)
        if answered.status_code == 200:
            decision = _decided(command.accepted, answered.json())
        else:
            error = answered.json()["error"]
            assert error["code"] == error["decision"]["reason"], error
            throttled = error["code"] == "too_many_attempts"
            assert answered.status_code == (429 if throttled else 409), answered.text
            assert ("retry-after" in answered.headers) is throttled
            decision = _decided(command.refused, error["decision"])
        published = await _first_reply(self.wire, (decision.topic,), request["request_id"])
        assert published == decision  # the HTTP answer is the event the topic carries
        return decision

    def _over_http(self, request: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The body without workspace_id (the path's); on `http-key-header` the key as the Idempotency-Key
        header instead of the body's request_id."""
        body = {name: value for name, value in request.items() if name != "workspace_id"}
        if self.name != "http-key-header":
            return body, self.headers
        return ({name: value for name, value in body.items() if name != "request_id"},
                self.headers | {"Idempotency-Key": body["request_id"]})

    async def void(self, certificate_id: str) -> str:
        """A void, on Kafka's `void` topic or the operator route; the refusal's reason, or `voided`."""
        request = messages.void(self.workspace, certificate_id)
        if self.name == "kafka":
            await self.wire.send(Topic.VOID, request)
            decision = await _first_reply(self.wire, (Topic.CERTIFICATE_VOIDED, Topic.VOID_REJECTED),
                                          request["request_id"])
            return "voided" if decision.topic is Topic.CERTIFICATE_VOIDED else str(decision.reason)
        body, headers = self._over_http({"request_id": request["request_id"], "reason": request["reason"]})
        answered = await self.api.post(
            f"/v1/workspaces/{self.workspace}/certificates/{certificate_id}/void", headers=headers, json=body
        )
        if answered.status_code == 200:
            return "voided"
        assert answered.status_code == 409, answered.text
        return str(answered.json()["error"]["code"])

    # the booking steps a case sets up with, on this door

    async def buy(self) -> Bought:
        return await buy(self.wire, self.db, self.workspace)

    async def redeem(self, code: str, **changes: Any) -> Decision:
        return await self.ask(REDEEM, messages.redeem(self.workspace, code, **changes))

    async def hold(self, code: str, **changes: Any) -> Decision:
        return await self.ask(HOLD, messages.hold(self.workspace, code, **changes))

    async def capture(self, hold_id: str, **changes: Any) -> Decision:
        return await self.ask(CAPTURE, messages.capture(self.workspace, hold_id, **changes))

    async def release(self, hold_id: str, **changes: Any) -> Decision:
        return await self.ask(RELEASE, messages.release(self.workspace, hold_id, **changes))

    async def refund(self, order_id: str, redemption_id: str, **changes: Any) -> Decision:
        return await self.ask(REFUND, messages.refund(self.workspace, order_id, redemption_id, **changes))

    async def redeemed(self, code: str, **changes: Any) -> dict[str, Any]:
        decision = await self.redeem(code, **changes)
        assert decision.topic is Topic.CERTIFICATE_REDEEMED, decision
        return decision.body

    async def placed(self, code: str, **changes: Any) -> dict[str, Any]:
        decision = await self.hold(code, **changes)
        assert decision.topic is Topic.HOLD_PLACED, decision
        return decision.body


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[Dependencies]:
    made = bootstrap(settings)
    yield made
    await made.close()


@pytest.fixture
async def api(settings: Settings, deps: Dependencies) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_api(settings, deps=deps))
    async with httpx.AsyncClient(transport=transport, base_url="http://giftcert.test") as client:
        yield client


@pytest.fixture
async def doors(
    wire: Wire, db: AsyncEngine, deps: Dependencies, api: httpx.AsyncClient, workspace: str
) -> dict[str, Door]:
    """Both doors, on one workspace (admin allows the booking routes and the operator's void route alike)."""
    made = await create_api_key(deps.new_uow(), workspace, Scope.ADMIN, "checkout", deps.clock.now())
    headers = {"Authorization": f"Bearer {made.secret}"}
    return {name: Door(name, wire, db, api, headers, workspace) for name in DOORS}


@pytest.fixture(params=DOORS)
def door(request: pytest.FixtureRequest, doors: dict[str, Door]) -> Door:
    return doors[request.param]


def _holds_to_the_contract(decision: Decision, topic: Topic, reason: str | None = None, **fields: Any) -> None:
    assert decision.topic is topic, decision
    assert set(decision.body) == FIELDS[topic] | {"workspace_id"}, decision
    if reason is not None:
        assert decision.reason == reason, decision
        assert decision.body["detail"], decision
    for name, value in fields.items():
        assert decision.body[name] == value, (name, decision)


Case = Callable[[Door], Awaitable[None]]
CASES: dict[str, Case] = {}


def case(rule: Case) -> Case:
    CASES[rule.__name__] = rule
    return rule


def _order(total: int = 6000) -> dict[str, Any]:
    return {"order_id": f"trip-{uuid4().hex[:8]}", "order_total": eur(total)}


# --- booking-redeem-request (v1, extended with `amount`) -------------------------------------------


@case
async def a_partial_redeem_applies_the_amount_and_leaves_the_rest_active(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.redeem(bought.code, amount=eur(3000))
    _holds_to_the_contract(
        decision, Topic.CERTIFICATE_REDEEMED, certificate_id=bought.certificate_id, code_last4=bought.code[-4:],
        amount_applied=eur(3000), hold_id=None, balance_after=eur(2000), status_after="active",
    )


@case
async def a_redeem_above_what_is_available_is_insufficient_balance(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    await door.placed(bought.code, amount=eur(4000))
    decision = await door.redeem(bought.code, amount=eur(1500))
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "insufficient_balance")


@case
async def a_redeem_above_what_the_order_still_owes_is_exceeds_order_due(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    one, two = await door.buy(), await door.buy()
    order = _order(6000)
    await door.redeemed(one.code, amount=eur(4000), **order)
    decision = await door.redeem(two.code, amount=eur(3000), **order)
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "exceeds_order_due", order_id=order["order_id"])


@case
async def a_redeem_counts_what_the_orders_other_certificates_hold_as_covered(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    one, two = await door.buy(), await door.buy()
    order = _order(6000)
    await door.placed(one.code, amount=eur(4000), **order)
    decision = await door.redeem(two.code, amount=eur(3000), **order)
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "exceeds_order_due")


@case
async def what_an_order_still_owes_is_net_of_its_refunds(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    one, two = await door.buy(), await door.buy()
    order = _order(6000)
    first = await door.redeemed(one.code, amount=eur(4000), **order)
    assert (await door.refund(order["order_id"], first["request_id"], amount=eur(4000))).reason is None
    decision = await door.redeem(two.code, amount=eur(5000), **order)
    _holds_to_the_contract(decision, Topic.CERTIFICATE_REDEEMED, certificate_id=two.certificate_id,
                           amount_applied=eur(5000), balance_after=eur(0), status_after="redeemed")


@case
async def a_redeem_above_the_orders_total_is_exceeds_order_total(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.redeem(bought.code, amount=eur(3000), order_total=eur(2000))
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "exceeds_order_total")


@case
async def a_redeem_in_full_mode_of_a_certificate_worth_more_than_the_order_is_exceeds_order_total(door: Door) -> None:
    await configure(door.db, door.workspace)
    bought = await door.buy()
    decision = await door.redeem(bought.code, order_total=eur(4000))
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "exceeds_order_total")


@case
async def a_redeem_of_a_zero_amount_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.redeem(bought.code, amount=eur(0))
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "invalid_amount")


@case
async def a_redeem_of_an_amount_in_another_currency_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.redeem(bought.code, amount={"minor": 100, "currency": "GBP"})
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "invalid_amount")


@case
async def a_redeem_of_a_negative_amount_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.redeem(bought.code, amount=eur(-100))
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "invalid_amount")


@case
async def a_redeem_in_full_mode_of_an_amount_other_than_the_value_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace)
    bought = await door.buy()
    decision = await door.redeem(bought.code, amount=eur(1000))
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "invalid_amount")


@case
async def a_redeem_in_partial_mode_of_a_certificate_at_zero_is_already_redeemed(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    spent = await door.redeemed(bought.code, amount=eur(VALUE))
    assert (spent["balance_after"], spent["status_after"]) == (eur(0), "redeemed")
    decision = await door.redeem(bought.code, amount=eur(100))
    _holds_to_the_contract(decision, Topic.REDEMPTION_REJECTED, "already_redeemed")


# --- booking-hold-request ----------------------------------------------------------------------------


@case
async def a_hold_reserves_the_amount_until_hold_expires_at(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    order = _order()
    before = datetime.fromisoformat(messages.now_text())
    decision = await door.hold(bought.code, amount=eur(3000), hold_seconds=600, **order)
    _holds_to_the_contract(
        decision, Topic.HOLD_PLACED, certificate_id=bought.certificate_id, code_last4=bought.code[-4:],
        order_id=order["order_id"], amount_held=eur(3000), available_after=eur(2000),
        hold_id=decision.body["request_id"],
    )
    expires = datetime.fromisoformat(decision.body["hold_expires_at"])
    assert before + timedelta(seconds=599) <= expires <= before + timedelta(seconds=630)


@case
async def a_hold_above_what_is_available_is_insufficient_balance(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    await door.placed(bought.code, amount=eur(4000))
    decision = await door.hold(bought.code, amount=eur(1500))
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "insufficient_balance", certificate_id=bought.certificate_id)


@case
async def a_held_certificate_in_full_mode_is_insufficient_balance_to_every_other_order(door: Door) -> None:
    await configure(door.db, door.workspace)
    bought = await door.buy()
    await door.placed(bought.code)
    decision = await door.hold(bought.code)
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "insufficient_balance", certificate_id=bought.certificate_id)


@case
async def a_hold_above_what_the_order_still_owes_is_exceeds_order_due(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    one, two = await door.buy(), await door.buy()
    order = _order(6000)
    await door.placed(one.code, amount=eur(4000), **order)
    decision = await door.hold(two.code, amount=eur(3000), **order)
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "exceeds_order_due", certificate_id=two.certificate_id,
                           order_id=order["order_id"])


@case
async def a_hold_above_the_orders_total_is_exceeds_order_total(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.hold(bought.code, amount=eur(3000), order_total=eur(2000))
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "exceeds_order_total", certificate_id=bought.certificate_id)


@case
async def a_hold_of_a_zero_amount_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.hold(bought.code, amount=eur(0))
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "invalid_amount", certificate_id=bought.certificate_id)


@case
async def a_hold_of_an_amount_in_another_currency_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.hold(bought.code, amount={"minor": 100, "currency": "GBP"})
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "invalid_amount", certificate_id=bought.certificate_id)


@case
async def a_hold_of_a_negative_amount_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.hold(bought.code, amount=eur(-100))
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "invalid_amount", certificate_id=bought.certificate_id)


@case
async def a_hold_in_full_mode_of_an_amount_other_than_the_value_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace)
    bought = await door.buy()
    decision = await door.hold(bought.code, amount=eur(1000))
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "invalid_amount", certificate_id=bought.certificate_id)


@case
async def a_hold_in_partial_mode_of_a_certificate_at_zero_is_already_redeemed(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    await door.redeemed(bought.code, amount=eur(VALUE))
    decision = await door.hold(bought.code, amount=eur(100))
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "already_redeemed", certificate_id=bought.certificate_id)


@case
async def a_hold_longer_than_the_workspaces_maximum_is_invalid_hold_seconds(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial", hold_seconds_max=3600)
    bought = await door.buy()
    decision = await door.hold(bought.code, amount=eur(1000), hold_seconds=3601)
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "invalid_hold_seconds",
                           certificate_id=bought.certificate_id)


@case
async def a_hold_of_zero_seconds_is_invalid_hold_seconds(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    decision = await door.hold(bought.code, amount=eur(1000), hold_seconds=0)
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "invalid_hold_seconds",
                           certificate_id=bought.certificate_id)


@case
async def a_lapsed_hold_reserves_nothing_even_before_a_tick_saw_it(door: Door) -> None:
    await configure(door.db, door.workspace)
    bought = await door.buy()
    await door.placed(bought.code, hold_seconds=1)
    await asyncio.sleep(1.2)
    decision = await door.hold(bought.code)
    _holds_to_the_contract(decision, Topic.HOLD_PLACED, certificate_id=bought.certificate_id,
                           amount_held=eur(VALUE), available_after=eur(0))


@case
async def a_hold_of_a_voided_certificate_is_voided(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    assert await door.void(bought.certificate_id) == "voided"
    decision = await door.hold(bought.code, amount=eur(1000))
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "voided", certificate_id=bought.certificate_id)


async def _past_its_expiry(db: AsyncEngine, certificate_id: str) -> None:
    async with db.begin() as connection:  # time passes: the certificate's expires_at is behind us
        await connection.execute(
            text("UPDATE certificates SET expires_at = now() - interval '1 minute' WHERE id = :id"),
            {"id": certificate_id},
        )


@case
async def a_hold_of_an_unknown_code_is_not_found_and_names_no_certificate(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    decision = await door.hold("ABCD-EFGH-JKMN", amount=eur(1000))
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "not_found", certificate_id=None)


@case
async def a_hold_after_too_many_unknown_codes_on_one_order_is_too_many_attempts(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    order = _order()
    for _ in range(5):  # the guessing limit: 5 unknown codes per order in its window
        assert (await door.hold("ABCD-EFGH-JKMN", **order)).reason == "not_found"
    decision = await door.hold(bought.code, amount=eur(1000), **order)
    _holds_to_the_contract(decision, Topic.HOLD_REJECTED, "too_many_attempts", order_id=order["order_id"])


# --- booking-capture-request -------------------------------------------------------------------------


@case
async def a_capture_in_part_redeems_the_amount_then_releases_the_rest(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(3000))
    request = messages.capture(door.workspace, held["hold_id"], amount=eur(1000))
    decision = await door.ask(CAPTURE, request)
    _holds_to_the_contract(
        decision, Topic.CERTIFICATE_REDEEMED, request_id=request["request_id"], hold_id=held["hold_id"],
        order_id=held["order_id"], certificate_id=bought.certificate_id, code_last4=bought.code[-4:],
        amount_applied=eur(1000), balance_after=eur(4000), status_after="active",
    )
    rest = await _first_reply(door.wire, (Topic.HOLD_RELEASED,), request["request_id"])
    _holds_to_the_contract(rest, Topic.HOLD_RELEASED, hold_id=held["hold_id"], certificate_id=bought.certificate_id,
                           amount_released=eur(2000), available_after=eur(4000))


@case
async def a_capture_of_an_unknown_hold_is_unknown_hold(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    decision = await door.capture(str(uuid4()))
    _holds_to_the_contract(decision, Topic.CAPTURE_REJECTED, "unknown_hold", certificate_id=None)


@case
async def a_capture_of_a_released_hold_is_hold_released(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    assert (await door.release(held["hold_id"])).topic is Topic.HOLD_RELEASED
    decision = await door.capture(held["hold_id"])
    _holds_to_the_contract(decision, Topic.CAPTURE_REJECTED, "hold_released", certificate_id=bought.certificate_id)


async def _lapsed_hold(door: Door) -> tuple[Bought, dict[str, Any]]:
    """A hold past its hold_expires_at by the ledger's clock, before any tick saw it."""
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000), hold_seconds=1)
    await asyncio.sleep(1.2)
    return bought, held


@case
async def a_capture_of_a_hold_past_its_expiry_is_hold_expired_before_any_tick(door: Door) -> None:
    bought, held = await _lapsed_hold(door)
    decision = await door.capture(held["hold_id"])
    _holds_to_the_contract(decision, Topic.CAPTURE_REJECTED, "hold_expired", certificate_id=bought.certificate_id)


@case
async def a_capture_of_a_captured_hold_is_already_captured(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    assert (await door.capture(held["hold_id"])).topic is Topic.CERTIFICATE_REDEEMED
    decision = await door.capture(held["hold_id"])
    _holds_to_the_contract(decision, Topic.CAPTURE_REJECTED, "already_captured", certificate_id=bought.certificate_id)


@case
async def a_capture_above_the_amount_held_is_amount_exceeds_hold(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    decision = await door.capture(held["hold_id"], amount=eur(1001))
    _holds_to_the_contract(decision, Topic.CAPTURE_REJECTED, "amount_exceeds_hold",
                           certificate_id=bought.certificate_id, hold_id=held["hold_id"])


@case
async def a_capture_of_a_zero_amount_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    decision = await door.capture(held["hold_id"], amount=eur(0))
    _holds_to_the_contract(decision, Topic.CAPTURE_REJECTED, "invalid_amount", certificate_id=bought.certificate_id)


@case
async def a_capture_of_a_negative_amount_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    decision = await door.capture(held["hold_id"], amount=eur(-100))
    _holds_to_the_contract(decision, Topic.CAPTURE_REJECTED, "invalid_amount", certificate_id=bought.certificate_id)


@case
async def a_capture_in_another_currency_is_invalid_amount(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    decision = await door.capture(held["hold_id"], amount={"minor": 100, "currency": "GBP"})
    _holds_to_the_contract(decision, Topic.CAPTURE_REJECTED, "invalid_amount", certificate_id=bought.certificate_id)


@case
async def a_capture_of_a_live_hold_succeeds_after_the_certificates_expiry_has_passed(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(2000))
    await _past_its_expiry(door.db, bought.certificate_id)
    decision = await door.capture(held["hold_id"])
    _holds_to_the_contract(decision, Topic.CERTIFICATE_REDEEMED, hold_id=held["hold_id"],
                           amount_applied=eur(2000), balance_after=eur(3000), status_after="active")


# --- booking-release-request -------------------------------------------------------------------------


@case
async def a_release_gives_back_what_was_held(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    decision = await door.release(held["hold_id"])
    _holds_to_the_contract(decision, Topic.HOLD_RELEASED, hold_id=held["hold_id"],
                           certificate_id=bought.certificate_id, amount_released=eur(1000),
                           available_after=eur(VALUE))


@case
async def a_release_of_an_unknown_hold_is_unknown_hold(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    decision = await door.release(str(uuid4()))
    _holds_to_the_contract(decision, Topic.RELEASE_REJECTED, "unknown_hold", certificate_id=None)


@case
async def a_release_of_a_captured_hold_is_already_captured(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    assert (await door.capture(held["hold_id"])).topic is Topic.CERTIFICATE_REDEEMED
    decision = await door.release(held["hold_id"])
    _holds_to_the_contract(decision, Topic.RELEASE_REJECTED, "already_captured", certificate_id=bought.certificate_id)


@case
async def a_release_of_a_hold_past_its_expiry_is_hold_expired_before_any_tick(door: Door) -> None:
    bought, held = await _lapsed_hold(door)
    decision = await door.release(held["hold_id"])
    _holds_to_the_contract(decision, Topic.RELEASE_REJECTED, "hold_expired", certificate_id=bought.certificate_id)


@case
async def a_release_of_a_released_hold_is_hold_released(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    assert (await door.release(held["hold_id"])).topic is Topic.HOLD_RELEASED
    decision = await door.release(held["hold_id"])
    _holds_to_the_contract(decision, Topic.RELEASE_REJECTED, "hold_released", certificate_id=bought.certificate_id)


# --- booking-refund-request --------------------------------------------------------------------------


async def _redemption(door: Door, mode: str = "partial", amount: int = 3000) -> tuple[Bought, dict[str, Any]]:
    await configure(door.db, door.workspace, redemption_mode=mode)
    bought = await door.buy()
    return bought, await door.redeemed(bought.code, amount=eur(amount))


@case
async def a_refund_credits_the_certificate_its_redemption_came_from(door: Door) -> None:
    bought, redeemed = await _redemption(door)
    decision = await door.refund(redeemed["order_id"], redeemed["request_id"], amount=eur(1000))
    _holds_to_the_contract(
        decision, Topic.CERTIFICATE_REFUNDED, order_id=redeemed["order_id"], redemption_id=redeemed["request_id"],
        certificate_id=bought.certificate_id, code_last4=bought.code[-4:], amount_refunded=eur(1000),
        balance_after=eur(3000), status_after="active",
    )


@case
async def a_refund_of_a_capture_credits_the_holds_certificate(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(2000))
    captured = await door.capture(held["hold_id"])
    assert captured.topic is Topic.CERTIFICATE_REDEEMED, captured
    decision = await door.refund(held["order_id"], captured.body["request_id"], amount=eur(2000))
    _holds_to_the_contract(decision, Topic.CERTIFICATE_REFUNDED, certificate_id=bought.certificate_id,
                           amount_refunded=eur(2000), balance_after=eur(VALUE), status_after="active")


@case
async def a_refund_to_an_expired_certificate_makes_it_active_for_refund_validity_days(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial", refund_validity_days=30)
    bought = await door.buy()
    redeemed = await door.redeemed(bought.code, amount=eur(3000))
    await _past_its_expiry(door.db, bought.certificate_id)
    await door.wire.send(Topic.EXPIRY_TICK, messages.tick(door.workspace, messages.now_text()))
    await door.wire.wait_for(Topic.CERTIFICATE_EXPIRED, lambda b: b["certificate_id"] == bought.certificate_id)
    before = datetime.fromisoformat(messages.now_text())
    decision = await door.refund(redeemed["order_id"], redeemed["request_id"], amount=eur(1000))
    _holds_to_the_contract(decision, Topic.CERTIFICATE_REFUNDED, certificate_id=bought.certificate_id,
                           balance_after=eur(3000), status_after="active")
    expires = datetime.fromisoformat(decision.body["expires_at"])
    assert before + timedelta(days=30) - timedelta(seconds=5) <= expires <= before + timedelta(days=30, seconds=30)


@case
async def a_refund_that_names_no_redemption_of_its_order_is_unknown_redemption(door: Door) -> None:
    _, redeemed = await _redemption(door)
    decision = await door.refund("another-order", redeemed["request_id"])
    _holds_to_the_contract(decision, Topic.REFUND_REJECTED, "unknown_redemption", certificate_id=None)


@case
async def refunds_of_one_redemption_above_what_it_applied_are_exceeds_redeemed(door: Door) -> None:
    bought, redeemed = await _redemption(door)
    assert (await door.refund(redeemed["order_id"], redeemed["request_id"], amount=eur(1000))).reason is None
    decision = await door.refund(redeemed["order_id"], redeemed["request_id"], amount=eur(2001))
    _holds_to_the_contract(decision, Topic.REFUND_REJECTED, "exceeds_redeemed", certificate_id=bought.certificate_id)


@case
async def a_refund_in_full_mode_of_part_of_a_redemption_is_partial_refund_not_allowed(door: Door) -> None:
    bought, redeemed = await _redemption(door, mode="full", amount=VALUE)
    decision = await door.refund(redeemed["order_id"], redeemed["request_id"], amount=eur(4000))
    _holds_to_the_contract(decision, Topic.REFUND_REJECTED, "partial_refund_not_allowed",
                           certificate_id=bought.certificate_id)


@case
async def a_refund_in_another_currency_is_currency_mismatch(door: Door) -> None:
    bought, redeemed = await _redemption(door)
    decision = await door.refund(redeemed["order_id"], redeemed["request_id"], amount={"minor": 100, "currency": "CHF"})
    _holds_to_the_contract(decision, Topic.REFUND_REJECTED, "currency_mismatch", certificate_id=bought.certificate_id)


@case
async def a_refund_to_a_voided_certificate_is_voided(door: Door) -> None:
    bought, redeemed = await _redemption(door)
    assert await door.void(bought.certificate_id) == "voided"
    decision = await door.refund(redeemed["order_id"], redeemed["request_id"])
    _holds_to_the_contract(decision, Topic.REFUND_REJECTED, "voided", certificate_id=bought.certificate_id)


# --- void ----------------------------------------------------------------------------------------------


@case
async def a_void_of_a_certificate_with_a_live_hold_is_held(door: Door) -> None:
    await configure(door.db, door.workspace, redemption_mode="partial")
    bought = await door.buy()
    held = await door.placed(bought.code, amount=eur(1000))
    assert await door.void(bought.certificate_id) == "held"
    assert (await door.release(held["hold_id"])).topic is Topic.HOLD_RELEASED
    assert await door.void(bought.certificate_id) == "voided"  # released, nothing holds it


@pytest.mark.parametrize("rule", list(CASES))
async def test_the_v2_rule_gets_the_same_decision_on_both_doors(door: Door, rule: str) -> None:
    await CASES[rule](door)


# --- a request decided on one door and repeated on the other -----------------------------------------


Repeat = Callable[[Door, Bought], Awaitable[tuple[Command, dict[str, Any], tuple[int, int]]]]
REPEATS: dict[str, Repeat] = {}


def repeat(rule: Repeat) -> Repeat:
    REPEATS[rule.__name__] = rule
    return rule


@repeat
async def a_hold(door: Door, bought: Bought) -> tuple[Command, dict[str, Any], tuple[int, int]]:
    return HOLD, messages.hold(door.workspace, bought.code, amount=eur(2000)), (VALUE, 3000)


@repeat
async def a_capture_in_part(door: Door, bought: Bought) -> tuple[Command, dict[str, Any], tuple[int, int]]:
    held = await door.placed(bought.code, amount=eur(2000))
    return CAPTURE, messages.capture(door.workspace, held["hold_id"], amount=eur(1000)), (4000, 4000)


@repeat
async def a_release(door: Door, bought: Bought) -> tuple[Command, dict[str, Any], tuple[int, int]]:
    held = await door.placed(bought.code, amount=eur(2000))
    return RELEASE, messages.release(door.workspace, held["hold_id"]), (VALUE, VALUE)


@repeat
async def a_refund(door: Door, bought: Bought) -> tuple[Command, dict[str, Any], tuple[int, int]]:
    redeemed = await door.redeemed(bought.code, amount=eur(3000))
    request = messages.refund(door.workspace, redeemed["order_id"], redeemed["request_id"], amount=eur(1000))
    return REFUND, request, (3000, 3000)


@repeat
async def a_refused_capture(door: Door, bought: Bought) -> tuple[Command, dict[str, Any], tuple[int, int]]:
    held = await door.placed(bought.code, amount=eur(2000))
    return CAPTURE, messages.capture(door.workspace, held["hold_id"], amount=eur(2001)), (VALUE, 3000)


@pytest.mark.parametrize(("first", "then"), [("kafka", "http"), ("http", "kafka"), ("kafka", "http-key-header")])
@pytest.mark.parametrize("request_kind", list(REPEATS))
async def test_a_v2_request_repeated_on_the_other_door_gets_the_stored_decision_and_applies_once(
    doors: dict[str, Door], db: AsyncEngine, workspace: str, first: str, then: str, request_kind: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await doors[first].buy()
    command, request, state = await REPEATS[request_kind](doors[first], bought)
    decided = await doors[first].ask(command, request)
    assert await balance_and_available(db, bought.certificate_id) == state
    await asyncio.sleep(0.01)
    later = request | ({"requested_at": messages.now_text()} if "requested_at" in request else {})
    repeated = await doors[then].ask(command, later)  # requested_at is not part of a request's identity
    assert repeated == decided
    published = await doors[first].wire.wait_for(
        decided.topic, lambda b: b.get("request_id") == request["request_id"], count=2
    )
    assert [_decided(decided.topic, record.body) for record in published] == [decided, decided]
    assert published[0].body["event_id"] != published[1].body["event_id"]  # the repeat is published anew
    assert await balance_and_available(db, bought.certificate_id) == state


@pytest.mark.parametrize("request_kind", ["a_hold", "a_capture_in_part", "a_refund"])
async def test_a_v2_request_sent_on_both_doors_at_once_is_decided_once(
    doors: dict[str, Door], db: AsyncEngine, workspace: str, request_kind: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await doors["kafka"].buy()
    command, request, state = await REPEATS[request_kind](doors["kafka"], bought)
    on_kafka, over_http = await asyncio.gather(
        doors["kafka"].ask(command, request), doors["http"].ask(command, request)
    )
    published = await doors["kafka"].wire.wait_for(
        on_kafka.topic, lambda b: b.get("request_id") == request["request_id"], count=2
    )
    assert over_http == _decided(on_kafka.topic, published[0].body) == _decided(on_kafka.topic, published[1].body)
    assert await balance_and_available(db, bought.certificate_id) == state
