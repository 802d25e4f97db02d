"""Every HTTP command under an idempotency key: the same key with the same body gets the first answer
(and changes nothing), the same key with another body is 409 `idempotency_key_reused` (never the
first answer as if it were a repeat), the key may come as an `Idempotency-Key` header, and a header
that disagrees with the body's key is 422 `idempotency_key_mismatch`. The table of command routes is
checked against the app's, so a command added later must come here too."""

import asyncio
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from tests.api.conftest import Shop, active_certificate, purchase_body

pytestmark = pytest.mark.integration

COMMAND_ROUTES = {
    ("POST", "/v1/workspaces/{workspace}/portal/purchases"),
    ("POST", "/v1/workspaces/{workspace}/certificates"),
    ("POST", "/v1/workspaces/{workspace}/certificates/{certificate_id}/payments"),
    ("POST", "/v1/workspaces/{workspace}/certificates/{certificate_id}/void"),
    ("POST", "/v1/workspaces/{workspace}/certificates/{certificate_id}/reactivate"),
    ("POST", "/v1/workspaces/{workspace}/certificates/{certificate_id}/resend"),
    ("PATCH", "/v1/workspaces/{workspace}/settings"),
    ("POST", "/v1/workspaces/{workspace}/products"),
    ("PUT", "/v1/workspaces/{workspace}/products/{product_id}"),
    ("POST", "/v1/workspaces/{workspace}/redemptions"),  # tests/api/test_booking_api.py
    ("POST", "/v1/workspaces/{workspace}/holds"),  # these four: tests/api/test_booking_holds_api.py
    ("POST", "/v1/workspaces/{workspace}/captures"),
    ("POST", "/v1/workspaces/{workspace}/releases"),
    ("POST", "/v1/workspaces/{workspace}/refunds"),
}
QUERIES_BY_POST = {
    ("POST", "/v1/workspaces/{workspace}/certificates/search"),
    ("POST", "/v1/workspaces/{workspace}/balance"),  # tests/api/test_balance_api.py
    ("POST", "/v1/workspaces/{workspace}/certificates/export"),  # tests/api/test_certificate_export.py
}
EUR_70 = {"minor": 7000, "currency": "EUR"}


def reused(response: httpx.Response) -> bool:
    return (response.status_code, response.json()["error"]["code"]) == (409, "idempotency_key_reused")


def keyed(headers: dict[str, str], key: object) -> dict[str, str]:
    return headers | {"Idempotency-Key": str(key)}


def _purchase_route(shop: Shop, door: str) -> tuple[str, dict[str, str]]:
    if door == "portal":
        return f"{shop.base}/portal/purchases", shop.portal
    return f"{shop.base}/certificates", shop.admin


def test_every_command_route_is_covered_here(api_app: FastAPI) -> None:
    writes = {
        (method.upper(), path)
        for path, operations in api_app.openapi()["paths"].items()
        for method in operations
        if method.upper() != "GET"
    }
    assert writes == COMMAND_ROUTES | QUERIES_BY_POST


@pytest.mark.parametrize("door", ["portal", "admin"])
async def test_a_purchase_key_again_with_another_amount_is_reused_not_the_first_purchase(
    http: httpx.AsyncClient, shop: Shop, door: str
) -> None:
    url, headers = _purchase_route(shop, door)
    body = purchase_body(message=None)
    assert (await http.post(url, headers=headers, json=body)).status_code == 201
    respelled = {name: body[name] for name in reversed(body) if name != "message"}  # null and absent are one
    again = await http.post(url, headers=headers, json=respelled)
    assert (again.status_code, again.json()["certificate_id"]) == (200, body["certificate_id"])
    other = await http.post(url, headers=headers, json=body | {"amount": EUR_70})
    assert reused(other), other.text
    assert "another purchase-requested request" in other.json()["error"]["detail"]
    status = await http.get(f"{shop.base}/portal/certificates/{body['certificate_id']}", headers=shop.portal)
    assert status.json()["amount"]["minor"] == body["amount"]["minor"]


async def test_a_portal_purchase_key_reused_by_an_operator_is_another_request(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    body = purchase_body()
    assert (await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=body)).status_code == 201
    assert reused(await http.post(f"{shop.base}/certificates", headers=shop.admin, json=body))


@pytest.mark.parametrize("door", ["portal", "admin"])
async def test_a_purchase_takes_its_certificate_id_as_the_idempotency_key_header(
    http: httpx.AsyncClient, shop: Shop, door: str
) -> None:
    url, headers = _purchase_route(shop, door)
    body = purchase_body()
    certificate_id = body.pop("certificate_id")
    first = await http.post(url, headers=keyed(headers, certificate_id), json=body)
    assert (first.status_code, first.json()["certificate_id"]) == (201, certificate_id)
    quoted = await http.post(url, headers=keyed(headers, f'"{certificate_id}"'), json=body)
    both = await http.post(url, headers=keyed(headers, certificate_id), json=body | {"certificate_id": certificate_id})
    assert (quoted.status_code, both.status_code) == (200, 200)
    assert reused(await http.post(url, headers=keyed(headers, certificate_id), json=body | {"amount": EUR_70}))
    mismatch = await http.post(url, headers=keyed(headers, uuid4()), json=body | {"certificate_id": certificate_id})
    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (422, "idempotency_key_mismatch")
    not_an_id = await http.post(url, headers=keyed(headers, "not-a-uuid"), json=body)
    assert (not_an_id.status_code, not_an_id.json()["error"]["code"]) == (422, "invalid")
    without_key = await http.post(url, headers=headers, json=body)
    assert (without_key.status_code, without_key.json()["error"]["code"]) == (422, "invalid")


async def test_of_concurrent_purchases_under_one_key_with_different_amounts_exactly_one_stands(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    body = purchase_body()
    amounts = [5000 + 100 * n for n in range(8)]
    answers = await asyncio.gather(*(
        http.post(f"{shop.base}/portal/purchases", headers=shop.portal,
                  json=body | {"amount": {"minor": minor, "currency": "EUR"}})
        for minor in amounts
    ))
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 7
    (won,) = [answer for answer in answers if answer.status_code == 201]
    assert all(reused(answer) for answer in answers if answer is not won)
    status = await http.get(f"{shop.base}/portal/certificates/{body['certificate_id']}", headers=shop.portal)
    assert status.json()["amount"] == won.json()["amount"]


async def test_a_payment_reference_again_for_another_certificate_is_reused(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    first, second = [
        (await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())).json()
        for _ in range(2)
    ]
    pay_first = f"{shop.base}/certificates/{first['certificate_id']}/payments"
    pay_second = f"{shop.base}/certificates/{second['certificate_id']}/payments"
    assert (await http.post(pay_first, headers=shop.admin, json={"payment_reference": "till-7"})).status_code == 200
    again = await http.post(pay_first, headers=keyed(shop.admin, "till-7"), json={})
    assert (again.status_code, again.json()["payment_id"]) == (200, "till-7")
    assert reused(await http.post(pay_second, headers=shop.admin, json={"payment_reference": "till-7"}))
    by_header = await http.post(pay_second, headers=keyed(shop.admin, "till-8"), json={})
    assert (by_header.status_code, by_header.json()["status"], by_header.json()["payment_id"]) == (
        200, "active", "till-8"
    )
    mismatch = await http.post(pay_second, headers=keyed(shop.admin, "till-9"), json={"payment_reference": "till-8"})
    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (422, "idempotency_key_mismatch")


@pytest.mark.parametrize("by_header", [False, True], ids=["body", "header"])
async def test_a_void_and_a_reactivation_key_again_with_another_reason_or_certificate_is_reused(
    http: httpx.AsyncClient, shop: Shop, by_header: bool
) -> None:
    certificate, other = await active_certificate(http, shop), await active_certificate(http, shop)

    async def decide(action: str, certificate_id: str, reason: str, request_id: str) -> httpx.Response:
        url = f"{shop.base}/certificates/{certificate_id}/{action}"
        if by_header:
            return await http.post(url, headers=keyed(shop.admin, request_id), json={"reason": reason})
        return await http.post(url, headers=shop.admin, json={"reason": reason, "request_id": request_id})

    for action in ("void", "reactivate"):
        request_id = str(uuid4())
        first = await decide(action, certificate["certificate_id"], "a reason", request_id)
        again = await decide(action, certificate["certificate_id"], "a reason", request_id)
        assert (first.status_code, again.status_code) == (200, 200), first.text
        assert again.json()["status"] == ("voided" if action == "void" else "active")
        assert [e["kind"] for e in again.json()["activity"]].count(f"{action.removesuffix('e')}ed") == 1
        assert reused(await decide(action, certificate["certificate_id"], "another reason", request_id))
        assert reused(await decide(action, other["certificate_id"], "a reason", request_id))


async def test_a_refusal_is_the_stored_answer_of_its_key(http: httpx.AsyncClient, shop: Shop) -> None:
    pending = (await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())).json()
    url = f"{shop.base}/certificates/{pending['certificate_id']}/reactivate"
    body = {"reason": "rebooked", "request_id": str(uuid4())}
    first, again = [await http.post(url, headers=shop.admin, json=body) for _ in range(2)]
    assert first.status_code == again.status_code == 409
    assert first.json() == again.json()
    assert reused(await http.post(url, headers=shop.admin, json=body | {"reason": "another"}))


async def test_a_resend_under_a_key_sends_once_and_the_key_for_another_certificate_is_reused(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    certificate, other = await active_certificate(http, shop), await active_certificate(http, shop)
    key = str(uuid4())
    url = f"{shop.base}/certificates/{certificate['certificate_id']}/resend"
    first, again = [await http.post(url, headers=keyed(shop.admin, key)) for _ in range(2)]
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()
    detail = (await http.get(f"{shop.base}/certificates/{certificate['certificate_id']}", headers=shop.admin)).json()
    assert [e["kind"] for e in detail["activity"]].count("sent") == 1
    assert reused(await http.post(f"{shop.base}/certificates/{other['certificate_id']}/resend",
                                  headers=keyed(shop.admin, key)))


async def test_a_settings_change_under_a_key_answers_its_first_answer_and_is_not_applied_again(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    url, key = f"{shop.base}/settings", str(uuid4())
    first = await http.patch(url, headers=keyed(shop.admin, key), json={"reminder_days": 10})
    assert (first.status_code, first.json()["reminder_days"]) == (200, 10)
    assert (await http.patch(url, headers=shop.admin, json={"reminder_days": 20})).status_code == 200
    again = await http.patch(url, headers=keyed(shop.admin, key), json={"reminder_days": 10})
    assert again.json() == first.json()
    assert (await http.get(url, headers=shop.admin)).json()["reminder_days"] == 20  # not applied again
    assert reused(await http.patch(url, headers=keyed(shop.admin, key), json={"reminder_days": 11}))


async def test_a_refused_settings_change_leaves_its_key_free(http: httpx.AsyncClient, shop: Shop) -> None:
    url, key = f"{shop.base}/settings", str(uuid4())
    refused = await http.patch(url, headers=keyed(shop.admin, key), json={"min_minor": 9000, "max_minor": 100})
    assert refused.status_code == 422
    assert (await http.patch(url, headers=keyed(shop.admin, key), json={"min_minor": 500})).status_code == 200


async def test_a_product_created_under_a_key_is_created_once(http: httpx.AsyncClient, shop: Shop) -> None:
    url, key = f"{shop.base}/products", str(uuid4())
    body: dict[str, Any] = {"name": "Business", "fixed_amounts": [10000, 25000]}
    first, again = [await http.post(url, headers=keyed(shop.admin, key), json=body) for _ in range(2)]
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert len((await http.get(url, headers=shop.admin)).json()) == 1
    assert reused(await http.post(url, headers=keyed(shop.admin, key), json=body | {"name": "Leisure"}))
    assert len((await http.get(url, headers=shop.admin)).json()) == 1


async def test_a_product_replaced_under_a_key_answers_its_first_answer(http: httpx.AsyncClient, shop: Shop) -> None:
    made = [
        (await http.post(f"{shop.base}/products", headers=shop.admin, json={"name": name, "fixed_amounts": [5000]}))
        .json()["product_id"]
        for name in ("Business", "Leisure")
    ]
    key = str(uuid4())
    body = {"name": "Business class", "fixed_amounts": [5000, 9000]}
    url = f"{shop.base}/products/{made[0]}"
    first, again = [await http.put(url, headers=keyed(shop.admin, key), json=body) for _ in range(2)]
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert reused(await http.put(url, headers=keyed(shop.admin, key), json=body | {"active": False}))
    assert reused(await http.put(f"{shop.base}/products/{made[1]}", headers=keyed(shop.admin, key), json=body))
