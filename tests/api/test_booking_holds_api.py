"""Holds at checkout over HTTP: the same ledger decisions as their Kafka messages (hold-placed,
certificate-redeemed for a capture, hold-released), each refusal a 409 with the contract's reason,
and every repeat answered the same."""

from typing import Any
from uuid import uuid4

import httpx
import pytest

from giftcert.domain.api_key import Scope
from giftcert.ledger.hold import hold_certificates
from giftcert_contracts.inbound import HoldCertificate
from giftcert_contracts.outbound import HoldPlaced
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, active_certificate, new_key

pytestmark = pytest.mark.integration
EUR_100 = {"minor": 10000, "currency": "EUR"}


@pytest.fixture
async def booking(api_deps: Dependencies, shop: Shop, http: httpx.AsyncClient) -> dict[str, str]:
    patched = await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"redemption_mode": "partial"})
    assert patched.status_code == 200, patched.text
    return await new_key(api_deps, shop.workspace, Scope.BOOKING)


def hold_body(code: str, **changes: Any) -> dict[str, Any]:
    return {
        "request_id": str(uuid4()),
        "order_id": f"order-{uuid4().hex[:8]}",
        "code": code,
        "order_total": EUR_100,
    } | changes


async def balance_of(http: httpx.AsyncClient, shop: Shop, code: str, key: dict[str, str]) -> dict[str, Any]:
    answered = await http.post(f"{shop.base}/balance", headers=key, json={"code": code})
    assert answered.status_code == 200, answered.text
    return dict(answered.json())


async def test_a_hold_captured_in_part_redeems_that_part_and_releases_the_rest(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)  # EUR 50.00
    held = await http.post(
        f"{shop.base}/holds",
        headers=booking,
        json=hold_body(certificate["code"], amount={"minor": 3000, "currency": "EUR"}),
    )
    assert held.status_code == 200, held.text
    placed = held.json()
    assert placed["hold_id"] == placed["request_id"]
    assert (placed["amount_held"]["minor"], placed["available_after"]["minor"]) == (3000, 2000)
    assert (await balance_of(http, shop, certificate["code"], booking))["available"]["minor"] == 2000

    capture = {"request_id": str(uuid4()), "hold_id": placed["hold_id"], "amount": {"minor": 1200, "currency": "EUR"}}
    captured = await http.post(f"{shop.base}/captures", headers=booking, json=capture)
    assert captured.status_code == 200, captured.text
    redeemed = captured.json()
    assert (redeemed["hold_id"], redeemed["amount_applied"]["minor"]) == (placed["hold_id"], 1200)
    assert (redeemed["balance_after"]["minor"], redeemed["status_after"]) == (3800, "active")
    after = await balance_of(http, shop, certificate["code"], booking)
    assert (after["balance"]["minor"], after["available"]["minor"]) == (3800, 3800)  # the rest was released

    again = await http.post(f"{shop.base}/captures", headers=booking, json=capture)
    assert (again.status_code, again.json()["amount_applied"]) == (200, redeemed["amount_applied"])
    assert (await balance_of(http, shop, certificate["code"], booking))["balance"]["minor"] == 3800


async def test_a_released_hold_gives_its_value_back_and_cannot_be_captured(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    placed = (await http.post(f"{shop.base}/holds", headers=booking, json=hold_body(certificate["code"]))).json()
    released = await http.post(
        f"{shop.base}/releases", headers=booking, json={"request_id": str(uuid4()), "hold_id": placed["hold_id"]}
    )
    assert released.status_code == 200, released.text
    assert released.json()["amount_released"] == placed["amount_held"]
    assert (await balance_of(http, shop, certificate["code"], booking))["available"]["minor"] == 5000

    late = await http.post(
        f"{shop.base}/captures", headers=booking, json={"request_id": str(uuid4()), "hold_id": placed["hold_id"]}
    )
    assert late.status_code == 409, late.text
    error = late.json()["error"]
    assert (error["code"], error["decision"]["hold_id"]) == ("hold_released", placed["hold_id"])


async def test_a_hold_beyond_what_is_available_is_409_insufficient_balance(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    first = await http.post(
        f"{shop.base}/holds",
        headers=booking,
        json=hold_body(certificate["code"], amount={"minor": 4000, "currency": "EUR"}),
    )
    assert first.status_code == 200, first.text
    second = await http.post(
        f"{shop.base}/holds",
        headers=booking,
        json=hold_body(certificate["code"], amount={"minor": 2000, "currency": "EUR"}),
    )
    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "insufficient_balance"


async def test_an_unknown_hold_is_409_unknown_hold_and_a_portal_key_cannot_hold(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str], api_deps: Dependencies
) -> None:
    unknown = await http.post(
        f"{shop.base}/releases", headers=booking, json={"request_id": str(uuid4()), "hold_id": str(uuid4())}
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (409, "unknown_hold")
    assert unknown.json()["error"]["decision"]["certificate_id"] is None
    portal = await new_key(api_deps, shop.workspace, Scope.PORTAL)
    certificate = await active_certificate(http, shop)
    refused = await http.post(f"{shop.base}/holds", headers=portal, json=hold_body(certificate["code"]))
    assert refused.status_code == 403, refused.text


@pytest.mark.parametrize("route", ["captures", "releases"])
async def test_a_time_outside_the_contracts_range_is_422_invalid_not_a_server_error(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str], route: str
) -> None:
    # a time the body's type takes (any aware datetime) but the contract refuses (1970 to 9000, UTC):
    # the contract's refusal is the body's, found by the OpenAPI fuzzer (test_openapi.py)
    body = {"request_id": str(uuid4()), "hold_id": str(uuid4()), "requested_at": "0118-09-01T00:00:00+22:43"}
    answered = await http.post(f"{shop.base}/{route}", headers=booking, json=body)
    assert (answered.status_code, answered.json()["error"]["code"]) == (422, "invalid"), answered.text
    assert answered.json()["error"]["problems"][0]["location"] == "body.requested_at"


async def test_a_refund_of_a_redemption_credits_its_certificate_and_never_more_than_it_applied(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    redeem = hold_body(certificate["code"], amount={"minor": 4000, "currency": "EUR"})
    redeemed = await http.post(f"{shop.base}/redemptions", headers=booking, json=redeem)
    assert redeemed.status_code == 200, redeemed.text
    refund = {
        "request_id": str(uuid4()),
        "order_id": redeem["order_id"],
        "redemption_id": redeem["request_id"],
        "amount": {"minor": 2500, "currency": "EUR"},
        "reason": "tour cancelled",
    }
    refunded = await http.post(f"{shop.base}/refunds", headers=booking, json=refund)
    assert refunded.status_code == 200, refunded.text
    credited = refunded.json()
    assert (credited["amount_refunded"]["minor"], credited["balance_after"]["minor"]) == (2500, 3500)
    assert credited["certificate_id"] == certificate["certificate_id"]

    beyond = await http.post(
        f"{shop.base}/refunds",
        headers=booking,
        json=refund | {"request_id": str(uuid4()), "amount": {"minor": 1600, "currency": "EUR"}},
    )
    assert (beyond.status_code, beyond.json()["error"]["code"]) == (409, "exceeds_redeemed")
    elsewhere = await http.post(
        f"{shop.base}/refunds", headers=booking, json=refund | {"request_id": str(uuid4()), "order_id": "order-other"}
    )
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (409, "unknown_redemption")
    assert (await balance_of(http, shop, certificate["code"], booking))["balance"]["minor"] == 3500


async def test_each_booking_command_key_again_with_another_body_is_409_idempotency_key_reused(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    hold = hold_body(certificate["code"], amount={"minor": 1000, "currency": "EUR"})
    placed = (await http.post(f"{shop.base}/holds", headers=booking, json=hold)).json()
    again = await http.post(
        f"{shop.base}/holds", headers=booking, json=hold | {"amount": {"minor": 900, "currency": "EUR"}}
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "idempotency_key_reused")

    capture = {"request_id": str(uuid4()), "hold_id": placed["hold_id"], "amount": {"minor": 800, "currency": "EUR"}}
    assert (await http.post(f"{shop.base}/captures", headers=booking, json=capture)).status_code == 200
    other = await http.post(
        f"{shop.base}/captures", headers=booking, json=capture | {"amount": {"minor": 700, "currency": "EUR"}}
    )
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")

    release = {"request_id": str(uuid4()), "hold_id": str(uuid4())}
    assert (await http.post(f"{shop.base}/releases", headers=booking, json=release)).status_code == 409
    moved = await http.post(f"{shop.base}/releases", headers=booking, json=release | {"hold_id": placed["hold_id"]})
    assert (moved.status_code, moved.json()["error"]["code"]) == (409, "idempotency_key_reused")

    refund = {
        "request_id": str(uuid4()),
        "order_id": hold["order_id"],
        "redemption_id": capture["request_id"],
        "amount": {"minor": 300, "currency": "EUR"},
        "reason": "tour cancelled",
    }
    credited = await http.post(f"{shop.base}/refunds", headers=booking, json=refund)
    assert credited.status_code == 200, credited.text
    larger = await http.post(
        f"{shop.base}/refunds", headers=booking, json=refund | {"amount": {"minor": 400, "currency": "EUR"}}
    )
    assert (larger.status_code, larger.json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert (await balance_of(http, shop, certificate["code"], booking))["balance"]["minor"] == 5000 - 800 + 300


async def test_a_hold_first_decided_by_the_kafka_doors_handler_is_409_over_http_with_another_body(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str], api_deps: Dependencies
) -> None:
    certificate = await active_certificate(http, shop)
    body = hold_body(certificate["code"], amount={"minor": 1000, "currency": "EUR"})
    command = HoldCertificate.model_validate(
        body | {"workspace_id": shop.workspace, "requested_at": api_deps.clock.now()}
    )
    (decided,) = await hold_certificates([command], api_deps.new_uow(), api_deps.clock)  # as its subscriber does
    assert isinstance(decided, HoldPlaced)
    other = await http.post(
        f"{shop.base}/holds", headers=booking, json=body | {"amount": {"minor": 900, "currency": "EUR"}}
    )
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")
    same = await http.post(f"{shop.base}/holds", headers=booking, json=body)
    assert (same.status_code, same.json()["hold_id"]) == (200, str(decided.hold_id))
