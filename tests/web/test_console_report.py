"""The console's dashboard shows the sales report's v2 figures: liability as the balances left, by
kind, and the value redeemed and refunded in its period, in the reader's language."""

import re
from uuid import uuid4

import httpx
import pytest

from giftcert_services.runtime.bootstrap import Dependencies
from tests.web.conftest import Shop
from tests.web.console_steps import spendable_in_part

pytestmark = pytest.mark.integration


def _by_kind(html: str, list_id: str) -> dict[str, str]:
    listed = re.search(rf'<dl class="facts" id="{list_id}">(.*?)</dl>', html, re.DOTALL)
    assert listed, list_id
    return dict(re.findall(r'<dd data-kind="(\w+)">([^<]+)</dd>', listed[1]))


async def test_the_dashboard_shows_balances_by_kind_and_the_value_redeemed_and_refunded(
    browser: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    spendable = await spendable_in_part(browser, shop, api_deps)
    headers = spendable.booking
    redemption = {"request_id": str(uuid4()), "order_id": "order-4711", "code": spendable.code,
                  "order_total": {"minor": 3000, "currency": "EUR"}}
    assert (await browser.post(f"/v1/workspaces/{shop.workspace}/redemptions", headers=headers,
                               json=redemption)).status_code == 200
    refund = {"request_id": str(uuid4()), "order_id": "order-4711", "redemption_id": redemption["request_id"],
              "amount": {"minor": 1000, "currency": "EUR"}, "reason": "tour cancelled"}
    assert (await browser.post(f"/v1/workspaces/{shop.workspace}/refunds", headers=headers,
                               json=refund)).status_code == 200

    dashboard = await browser.get(f"/console/{shop.workspace}")
    assert dashboard.status_code == 200
    assert 'id="liability">€55.00<' in dashboard.text  # 75 - 30 + 10: the balance, not the value
    assert _by_kind(dashboard.text, "liability-by-kind") == {
        "purchased": "€55.00", "promotional": "€0.00", "credit": "€0.00"}
    assert 'id="redeemed-value">€30.00<' in dashboard.text
    assert "€30.00 in 1 redemption<" in dashboard.text
    assert _by_kind(dashboard.text, "redeemed-value-by-kind")["purchased"] == "€30.00"
    assert 'id="refunded-value">€10.00 in 1 refund<' in dashboard.text

    german = await browser.get(f"/console/{shop.workspace}", headers={"Accept-Language": "de"})
    assert "Eingelöster Wert im Zeitraum" in german.text
    assert 'id="refunded-value">10,00\xa0€ in 1 Erstattung<' in german.text
    assert "Guthaben der aktiven Gutscheine" in german.text
