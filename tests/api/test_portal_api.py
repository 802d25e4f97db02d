"""The portal's routes: the purchase form, a purchase started over HTTP (decided exactly as a
`purchase-requested` message), and a certificate's public status."""

from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from giftcert.store.schema import certificate_activity, outbox
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, purchase_body

pytestmark = pytest.mark.integration


async def _outbox_types(deps: Dependencies, certificate_id: str) -> list[str]:
    async with deps.engine.connect() as connection:
        rows = await connection.execute(select(outbox.c.headers).where(outbox.c.key == certificate_id))
        return [row.headers["ce_type"] for row in rows]


async def test_the_form_shows_the_workspace_settings_and_the_products_offered_to_the_segment(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    for product in (
        {"name": "Tours", "fixed_amounts": [5000, 10000]},
        {"name": "Business", "min_minor": 20000, "max_minor": 50000, "segments": ["b2b"]},
        {"name": "Retired", "fixed_amounts": [2500], "active": False},
    ):
        assert (await http.post(f"{shop.base}/products", headers=shop.admin, json=product)).status_code == 201

    form = await http.get(f"{shop.base}/portal/form", headers=shop.portal, params={"segment": "b2b"})
    assert form.status_code == 200
    body = form.json()
    assert (body["enabled"], body["currency"], body["min_minor"], body["max_minor"]) == (True, "EUR", 1000, 100000)
    assert [p["name"] for p in body["products"]] == ["Business", "Tours"]
    without_segment = await http.get(f"{shop.base}/portal/form", headers=shop.portal)
    assert [p["name"] for p in without_segment.json()["products"]] == ["Tours"]


async def test_a_purchase_creates_a_pending_certificate_and_publishes_certificate_created(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    body = purchase_body()
    created = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "pending"
    assert created.json()["certificate_id"] == body["certificate_id"]
    assert await _outbox_types(api_deps, body["certificate_id"]) == ["giftcert.certificate-created.v1"]
    async with api_deps.engine.connect() as connection:
        kinds = (await connection.execute(
            select(certificate_activity.c.kind).where(certificate_activity.c.certificate_id == body["certificate_id"])
        )).scalars().all()
    assert sorted(kinds) == ["created", "purchased_from_portal"]


async def test_repeating_a_purchase_returns_the_same_certificate_with_200(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    body = purchase_body()
    first = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=body)
    again = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    async with api_deps.engine.connect() as connection:
        count = len((await connection.execute(
            select(certificate_activity.c.id).where(certificate_activity.c.certificate_id == body["certificate_id"])
        )).all())
    assert count == 2  # created + purchased_from_portal, once


@pytest.mark.parametrize(
    ("settings", "changes", "reason"),
    [
        ({"portal_enabled": False}, {}, "portal_disabled"),
        ({}, {"amount": {"minor": 999, "currency": "EUR"}}, "amount_out_of_range"),
        ({}, {"amount": {"minor": 5000, "currency": "GBP"}}, "currency_not_supported"),
    ],
    ids=["portal_closed", "too_small", "other_currency"],
)
async def test_a_refused_purchase_is_a_409_with_the_contracts_reason(
    http: httpx.AsyncClient, shop: Shop, settings: dict[str, Any], changes: dict[str, Any], reason: str
) -> None:
    if settings:
        assert (await http.patch(f"{shop.base}/settings", headers=shop.admin, json=settings)).status_code == 200
    refused = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=purchase_body(**changes))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == reason


async def test_a_product_for_one_segment_refuses_other_buyers_as_segment_not_allowed(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    product = {"name": "Business", "fixed_amounts": [5000], "segments": ["b2b"], "segment_restricted_redemption": True}
    assert (await http.post(f"{shop.base}/products", headers=shop.admin, json=product)).status_code == 201
    refused = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=purchase_body(segment="b2c"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "segment_not_allowed")
    body = purchase_body(segment="b2b")
    sold = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=body)
    assert sold.status_code == 201
    detail = (await http.get(f"{shop.base}/certificates/{body['certificate_id']}", headers=shop.admin)).json()
    assert detail["segment"] == "b2b"  # redeemable only in the segment it was bought in
    assert detail["product_id"] is not None


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": {"minor": 50.5, "currency": "EUR"}},
        {"amount": {"minor": -5, "currency": "EUR"}},
        {"recipient": {"name": "Robin", "email": "not-an-email"}},
        {"purchaser": {"name": "Pat\r\nBcc: x@example.com", "email": "pat@example.com"}},
        {"certificate_id": "not-a-uuid"},
        {"unexpected": True},
    ],
    ids=["float_money", "negative", "bad_email", "header_injection", "bad_id", "unknown_field"],
)
async def test_an_invalid_purchase_is_a_422_naming_the_problem(
    http: httpx.AsyncClient, shop: Shop, changes: dict[str, Any]
) -> None:
    refused = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=purchase_body(**changes))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid"
    assert error["problems"]


async def test_the_public_status_shows_neither_code_nor_addresses(http: httpx.AsyncClient, shop: Shop) -> None:
    body = purchase_body()
    await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=body)
    status = await http.get(f"{shop.base}/portal/certificates/{body['certificate_id']}", headers=shop.portal)
    assert status.status_code == 200
    assert set(status.json()) == {"certificate_id", "status", "amount", "created_at", "expires_at"}
    missing = await http.get(f"{shop.base}/portal/certificates/{uuid4()}", headers=shop.portal)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
