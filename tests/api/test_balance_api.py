"""The balance inquiry over HTTP: a code in the body answers what the certificate is worth now, to
the portal's, the booking platform's and operators' keys; an unknown code is 404 and counts toward
the workspace's code-guessing limit, shared with redemptions; past it, 429 with Retry-After."""

from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from giftcert.domain.api_key import Scope
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, active_certificate, at, new_key

pytestmark = pytest.mark.integration


async def test_a_code_in_any_spelling_answers_its_balance_to_portal_booking_and_admin_keys(
    http: httpx.AsyncClient, api_deps: Dependencies, shop: Shop
) -> None:
    certificate = await active_certificate(http, shop)
    booking = await new_key(api_deps, shop.workspace, Scope.BOOKING)
    spelled = "-".join(certificate["code"][i:i + 4] for i in range(0, 12, 4)).lower()
    for headers in (shop.portal, booking, shop.admin):
        answered = await http.post(f"{shop.base}/balance", headers=headers, json={"code": spelled})
        assert answered.status_code == 200, answered.text
        body = answered.json()
        assert body == {
            "code_last4": certificate["code"][-4:], "status": "active",
            "balance": {"minor": 5000, "currency": "EUR"}, "available": {"minor": 5000, "currency": "EUR"},
            "expires_at": body["expires_at"],
        }
        assert at(body["expires_at"]) == at(certificate["expires_at"])
        assert certificate["code"] not in answered.text


async def test_the_balance_follows_a_redemption(http: httpx.AsyncClient, api_deps: Dependencies, shop: Shop) -> None:
    certificate = await active_certificate(http, shop)
    booking = await new_key(api_deps, shop.workspace, Scope.BOOKING)
    redeemed = await http.post(f"{shop.base}/redemptions", headers=booking, json={
        "request_id": str(uuid4()), "order_id": "o-1", "code": certificate["code"],
        "order_total": {"minor": 9000, "currency": "EUR"},
    })
    assert redeemed.status_code == 200, redeemed.text
    answered = await http.post(f"{shop.base}/balance", headers=booking, json={"code": certificate["code"]})
    assert (answered.json()["status"], answered.json()["balance"]["minor"]) == ("redeemed", 0)


async def test_an_unknown_code_is_404_and_a_code_of_another_workspace_is_unknown(
    http: httpx.AsyncClient, shop: Shop, other_shop: Shop
) -> None:
    certificate = await active_certificate(http, shop)
    for base, headers, code in ((shop.base, shop.portal, "ABCD-EFGH-JKMN"),
                                (other_shop.base, other_shop.admin, certificate["code"])):
        unknown = await http.post(f"{base}/balance", headers=headers, json={"code": code})
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"]["code"] == "not_found"
        assert certificate["code"] not in unknown.text


async def test_guessing_by_balance_inquiry_throttles_inquiries_and_redemptions_of_the_workspace(
    http: httpx.AsyncClient, api_deps: Dependencies, shop: Shop
) -> None:
    certificate = await active_certificate(http, shop)
    limit = api_deps.settings.guessing_limit
    booking = await new_key(api_deps, shop.workspace, Scope.BOOKING)
    for attempt in range(limit.workspace_failures):
        guess = await http.post(f"{shop.base}/balance", headers=booking, json={"code": f"GUESS{attempt:07d}"})
        assert guess.status_code == 404, (attempt, guess.text)
    throttled = await http.post(f"{shop.base}/balance", headers=booking, json={"code": certificate["code"]})
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["error"]["code"] == "too_many_attempts"
    assert int(throttled.headers["Retry-After"]) == round(limit.window.total_seconds())
    assert certificate["code"][-4:] not in throttled.text  # refused before the code was looked up
    by_portal = await http.post(f"{shop.base}/balance", headers=shop.portal, json={"code": certificate["code"]})
    assert by_portal.status_code == 429
    redeem = await http.post(f"{shop.base}/redemptions", headers=booking, json={
        "request_id": str(uuid4()), "order_id": "honest", "code": certificate["code"],
        "order_total": {"minor": 9000, "currency": "EUR"},
    })
    assert (redeem.status_code, redeem.json()["error"]["code"]) == (429, "too_many_attempts")


async def test_a_portal_key_is_limited_per_calling_address_as_well(
    http: httpx.AsyncClient, api_app: FastAPI, api_deps: Dependencies, shop: Shop
) -> None:
    certificate = await active_certificate(http, shop)
    for attempt in range(api_deps.settings.guessing_limit.failures):
        guess = await http.post(f"{shop.base}/balance", headers=shop.portal, json={"code": f"GUESS{attempt:07d}"})
        assert guess.status_code == 404
    throttled = await http.post(f"{shop.base}/balance", headers=shop.portal, json={"code": certificate["code"]})
    assert (throttled.status_code, throttled.json()["error"]["code"]) == (429, "too_many_attempts")
    transport = httpx.ASGITransport(app=api_app, client=("10.7.7.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://giftcert.test") as elsewhere:
        other_address = await elsewhere.post(f"{shop.base}/balance", headers=shop.portal,
                                             json={"code": certificate["code"]})
    assert other_address.status_code == 200, other_address.text
    booking = await new_key(api_deps, shop.workspace, Scope.BOOKING)
    assert (await http.post(f"{shop.base}/balance", headers=booking,
                            json={"code": certificate["code"]})).status_code == 200


async def test_a_code_in_the_query_string_is_not_read(http: httpx.AsyncClient, shop: Shop) -> None:
    certificate = await active_certificate(http, shop)
    refused = await http.post(f"{shop.base}/balance?code={certificate['code']}", headers=shop.portal, json={})
    assert refused.status_code == 422
    assert certificate["code"] not in refused.text
