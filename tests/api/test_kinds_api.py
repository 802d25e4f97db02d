"""Contract v2's certificate kinds on the HTTP door: an operator issues `promotional` and `credit`
certificates without a payment (the same rule as every door: giftcert_contracts.inbound), searches by
kind, and reads revenue (purchased only) and liability by kind in the sales report."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.api.conftest import Shop, active_certificate, purchase_body

pytestmark = pytest.mark.integration

PROMOTIONAL = {"kind": "promotional", "reason": "trade fair raffle"}
CREDIT = {"kind": "credit", "reason": "tour cancelled by us", "replaces_order_id": "order-77"}


async def _issue(http: httpx.AsyncClient, shop: Shop, **changes: Any) -> httpx.Response:
    return await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body(**changes))


@pytest.mark.parametrize("kind", [PROMOTIONAL, CREDIT], ids=["promotional", "credit"])
async def test_an_operator_issues_a_free_certificate_active_at_once_and_a_repeat_returns_it(
    http: httpx.AsyncClient, shop: Shop, kind: dict[str, Any]
) -> None:
    body = purchase_body(**kind)
    issued = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=body)
    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    assert (certificate["status"], certificate["kind"], certificate["channel"]) == ("active", kind["kind"], "admin")
    assert certificate["payment_id"] == f"{kind['kind']}:{certificate['certificate_id']}"
    issued_entry = [e for e in certificate["activity"] if e["kind"] == "issued"]
    assert [(e["reason"], e["reference"]) for e in issued_entry] == [(kind["reason"], kind.get("replaces_order_id"))]
    again = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=body)
    assert (again.status_code, again.json()["certificate_id"]) == (200, certificate["certificate_id"])


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "promotional"},
        {"kind": "credit", "reason": "tour cancelled"},
        {"kind": "promotional", "reason": "raffle", "replaces_order_id": "order-1"},
        {"reason": "a purchase takes none"},
    ],
    ids=["no reason", "credit without its order", "promotional with an order", "purchased with a reason"],
)
async def test_a_kind_without_what_it_needs_is_refused_422(
    http: httpx.AsyncClient, shop: Shop, changes: dict[str, Any]
) -> None:
    refused = await _issue(http, shop, **changes)
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid"), refused.text


async def test_the_portal_cannot_issue_a_free_certificate(http: httpx.AsyncClient, shop: Shop) -> None:
    refused = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=purchase_body(**PROMOTIONAL))
    assert refused.status_code == 422, refused.text


async def test_search_filters_by_kind_and_the_report_counts_only_purchased_as_revenue(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    await active_certificate(http, shop)  # purchased, EUR 50
    promotional = (await _issue(http, shop, **PROMOTIONAL, amount={"minor": 2000, "currency": "EUR"})).json()
    credit = (await _issue(http, shop, **CREDIT, amount={"minor": 3000, "currency": "EUR"})).json()
    found = await http.get(f"{shop.base}/certificates", headers=shop.admin, params={"kind": "promotional"})
    assert found.status_code == 200, found.text
    assert [c["certificate_id"] for c in found.json()["certificates"]] == [promotional["certificate_id"]]
    by_body = await http.post(f"{shop.base}/certificates/search", headers=shop.admin, json={"kind": "credit"})
    assert [c["certificate_id"] for c in by_body.json()["certificates"]] == [credit["certificate_id"]]
    unknown = await http.get(f"{shop.base}/certificates", headers=shop.admin, params={"kind": "gift"})
    assert unknown.status_code == 422

    year = datetime.now(UTC).year
    report = await http.get(
        f"{shop.base}/reports/sales", headers=shop.admin, params={"from": f"{year}-01-01", "to": f"{year}-12-31"}
    )
    assert report.status_code == 200, report.text
    sales = report.json()
    assert sum(m["revenue_minor"] for m in sales["revenue_by_month"]) == 5000
    assert sum(m["certificates"] for m in sales["revenue_by_month"]) == 1
    assert sales["liability_by_kind"] == {"purchased": 5000, "promotional": 2000, "credit": 3000}
    assert sales["outstanding_liability_minor"] == 10000


async def test_the_settings_take_the_pending_days_within_their_range(http: httpx.AsyncClient, shop: Shop) -> None:
    changed = await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"pending_days": 0})
    assert (changed.status_code, changed.json()["pending_days"]) == (200, 0), changed.text
    refused = await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"pending_days": -1})
    assert refused.status_code == 422
