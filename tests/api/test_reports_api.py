"""Operators' report routes over the same queries as `giftcert report` (tests/integration/test_reports.py
checks their figures in depth)."""

import httpx
import pytest

from tests.api.conftest import Shop, active_certificate

pytestmark = pytest.mark.integration


async def test_the_sales_report_counts_todays_activations_and_the_liability(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    await active_certificate(http, shop)
    await active_certificate(http, shop, amount={"minor": 7500, "currency": "EUR"})
    report = await http.get(f"{shop.base}/reports/sales", headers=shop.admin)
    assert report.status_code == 200
    body = report.json()
    assert (body["activated"], body["redeemed"], body["outstanding_liability_minor"]) == (2, 0, 12500)
    assert sum(month["revenue_minor"] for month in body["revenue_by_month"]) == 12500
    assert body["currency"] == "EUR"


async def test_a_period_that_ends_before_it_starts_is_a_422(http: httpx.AsyncClient, shop: Shop) -> None:
    refused = await http.get(f"{shop.base}/reports/sales", headers=shop.admin,
                             params={"from": "2026-05-01", "to": "2026-04-01"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid")


async def test_the_expiring_report_lists_what_expires_within_the_window(http: httpx.AsyncClient, shop: Shop) -> None:
    certificate = await active_certificate(http, shop)
    none_soon = await http.get(f"{shop.base}/reports/expiring", headers=shop.admin)
    assert none_soon.json() == []  # a year left, the reminder window is 30 days
    within_a_year = await http.get(f"{shop.base}/reports/expiring", headers=shop.admin, params={"within_days": 366})
    assert [c["certificate_id"] for c in within_a_year.json()] == [certificate["certificate_id"]]
    assert "code" not in within_a_year.json()[0]
