"""The booking platform's redeem over HTTP: the ledger's decision as the answer (200 with
certificate-redeemed, 409 with the reason and redemption-rejected, 429 when throttled), the same
answer on every repeat, the key in the body or the header, another body under a used key refused."""

from typing import Any
from uuid import uuid4

import httpx
import pytest

from giftcert.domain.api_key import Scope
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, active_certificate, new_key

pytestmark = pytest.mark.integration
EUR_100 = {"minor": 10000, "currency": "EUR"}


@pytest.fixture
async def booking(api_deps: Dependencies, shop: Shop) -> dict[str, str]:
    return await new_key(api_deps, shop.workspace, Scope.BOOKING)


def redeem_body(code: str, **changes: Any) -> dict[str, Any]:
    return {"request_id": str(uuid4()), "order_id": f"order-{uuid4().hex[:8]}", "code": code,
            "order_total": EUR_100} | changes


def without_event_id(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name not in {"event_id", "occurred_at", "sequence"}}


async def test_a_booking_key_redeems_a_code_and_gets_certificate_redeemed(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    body = redeem_body(certificate["code"].lower())
    redeemed = await http.post(f"{shop.base}/redemptions", headers=booking, json=body)
    assert redeemed.status_code == 200, redeemed.text
    event = redeemed.json()
    assert (event["request_id"], event["order_id"]) == (body["request_id"], body["order_id"])
    assert event["certificate_id"] == certificate["certificate_id"]
    assert event["amount_applied"] == {"minor": 5000, "currency": "EUR"}
    assert (event["status_after"], event["balance_after"]["minor"]) == ("redeemed", 0)
    assert certificate["code"] not in redeemed.text
    assert "sequence" not in event  # numbered when published; the HTTP answer is not in a topic's order
    detail = await http.get(f"{shop.base}/certificates/{certificate['certificate_id']}", headers=shop.admin)
    assert detail.json()["status"] == "redeemed"


async def test_a_repeat_by_header_in_another_spelling_gets_the_same_decision_and_redeems_nothing_more(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    body = redeem_body(certificate["code"])
    first = await http.post(f"{shop.base}/redemptions", headers=booking, json=body)
    spaced = " ".join(certificate["code"][i:i + 4] for i in range(0, 12, 4)).lower()
    again = await http.post(
        f"{shop.base}/redemptions", headers=booking | {"Idempotency-Key": f'"{body["request_id"]}"'},
        json={name: value for name, value in body.items() if name != "request_id"} | {"code": spaced},
    )
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert without_event_id(again.json()) == without_event_id(first.json())
    assert again.json()["event_id"] != first.json()["event_id"]  # a repeat is a new event of one decision


async def test_a_used_request_id_with_another_body_is_409_idempotency_key_reused(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate, other = await active_certificate(http, shop), await active_certificate(http, shop)
    body = redeem_body(certificate["code"])
    assert (await http.post(f"{shop.base}/redemptions", headers=booking, json=body)).status_code == 200
    for changed in ({"order_id": "another-order"}, {"order_total": {"minor": 9000, "currency": "EUR"}},
                    {"code": other["code"]}):
        reused = await http.post(f"{shop.base}/redemptions", headers=booking, json=body | changed)
        assert reused.status_code == 409, (changed, reused.text)
        assert reused.json()["error"]["code"] == "idempotency_key_reused"
    untouched = await http.get(f"{shop.base}/certificates/{other['certificate_id']}", headers=shop.admin)
    assert untouched.json()["status"] == "active"


async def test_a_header_that_disagrees_with_the_body_or_no_key_at_all_is_422(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    body = redeem_body(certificate["code"])
    mismatch = await http.post(f"{shop.base}/redemptions", headers=booking | {"Idempotency-Key": str(uuid4())},
                               json=body)
    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (422, "idempotency_key_mismatch")
    keyless = await http.post(f"{shop.base}/redemptions", headers=booking,
                              json={k: v for k, v in body.items() if k != "request_id"})
    assert (keyless.status_code, keyless.json()["error"]["code"]) == (422, "invalid")
    assert certificate["code"] not in mismatch.text + keyless.text
    still = await http.get(f"{shop.base}/certificates/{certificate['certificate_id']}", headers=shop.admin)
    assert still.json()["status"] == "active"


async def test_a_refusal_is_409_with_the_contracts_reason_and_the_rejected_event_on_every_repeat(
    http: httpx.AsyncClient, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    too_small = redeem_body(certificate["code"], order_total={"minor": 4000, "currency": "EUR"})
    unknown = redeem_body("ABCD-EFGH-JKMN")
    for body, reason in ((too_small, "exceeds_order_total"), (unknown, "not_found")):
        for _ in range(2):
            refused = await http.post(f"{shop.base}/redemptions", headers=booking, json=body)
            assert refused.status_code == 409, refused.text
            error = refused.json()["error"]
            assert error["code"] == reason
            assert error["decision"]["reason"] == reason
            assert error["decision"]["request_id"] == body["request_id"]
    redeemed = await http.post(f"{shop.base}/redemptions", headers=booking, json=redeem_body(certificate["code"]))
    assert redeemed.status_code == 200
    twice = await http.post(f"{shop.base}/redemptions", headers=booking, json=redeem_body(certificate["code"]))
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_redeemed")


async def test_guessing_codes_on_one_order_is_throttled_with_429_and_retry_after(
    http: httpx.AsyncClient, api_deps: Dependencies, shop: Shop, booking: dict[str, str]
) -> None:
    certificate = await active_certificate(http, shop)
    limit = api_deps.settings.guessing_limit
    for attempt in range(limit.failures):
        guess = await http.post(f"{shop.base}/redemptions", headers=booking,
                                json=redeem_body(f"ABCD-EFGH-JK{attempt:02d}", order_id="greedy"))
        assert guess.json()["error"]["code"] == "not_found", guess.text
    throttled = await http.post(f"{shop.base}/redemptions", headers=booking,
                                json=redeem_body(certificate["code"], order_id="greedy"))
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["error"]["code"] == "too_many_attempts"
    assert int(throttled.headers["Retry-After"]) == round(limit.window.total_seconds())
    honest = await http.post(f"{shop.base}/redemptions", headers=booking, json=redeem_body(certificate["code"]))
    assert honest.status_code == 200, honest.text


async def test_a_portal_key_cannot_redeem(http: httpx.AsyncClient, shop: Shop) -> None:
    certificate = await active_certificate(http, shop)
    refused = await http.post(f"{shop.base}/redemptions", headers=shop.portal, json=redeem_body(certificate["code"]))
    assert refused.status_code == 403
    assert "scope booking" in refused.json()["error"]["detail"]
