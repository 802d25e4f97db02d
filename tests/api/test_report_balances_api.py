"""The sales report route's v2 figures (tests/integration/test_report_balances.py checks them in depth):
after a partial redemption and a refund over the booking door, liability is the balance left, and the
value redeemed and refunded today is in the report, beside v1's fields."""

from uuid import uuid4

import httpx
import pytest

from giftcert.domain.api_key import Scope
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, active_certificate, new_key

pytestmark = pytest.mark.integration
KINDS = ("purchased", "promotional", "credit")


def eur(minor: int) -> dict[str, object]:
    return {"minor": minor, "currency": "EUR"}


async def test_the_sales_report_has_balances_and_the_value_redeemed_and_refunded_by_kind(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    booking = await new_key(api_deps, shop.workspace, Scope.BOOKING)
    patched = await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"redemption_mode": "partial"})
    assert patched.status_code == 200, patched.text
    certificate = await active_certificate(http, shop)  # EUR 50
    order = f"order-{uuid4().hex[:8]}"
    redemption = {"request_id": str(uuid4()), "order_id": order, "code": certificate["code"],
                  "order_total": eur(10000), "amount": eur(2000)}
    redeemed = await http.post(f"{shop.base}/redemptions", headers=booking, json=redemption)
    assert redeemed.status_code == 200, redeemed.text
    refund = {"request_id": str(uuid4()), "order_id": order, "redemption_id": redemption["request_id"],
              "amount": eur(500), "reason": "tour cancelled"}
    refunded = await http.post(f"{shop.base}/refunds", headers=booking, json=refund)
    assert refunded.status_code == 200, refunded.text

    body = (await http.get(f"{shop.base}/reports/sales", headers=shop.admin)).json()
    assert body["outstanding_liability_minor"] == 3500  # 5000 - 2000 + 500, not the value
    assert body["liability_by_kind"] == {"purchased": 3500, "promotional": 0, "credit": 0}
    assert (body["breakage_minor"], body["breakage_by_kind"]) == (0, dict.fromkeys(KINDS, 0))
    assert (body["redeemed_value_minor"], body["redemption_count"]) == (2000, 1)
    assert body["redeemed_value_by_kind"] == {"purchased": 2000, "promotional": 0, "credit": 0}
    assert body["redemption_count_by_kind"] == {"purchased": 1, "promotional": 0, "credit": 0}
    assert (body["refunded_value_minor"], body["refund_count"]) == (500, 1)
    assert (body["activated"], body["redeemed"]) == (1, 0)  # v1's funnel: still active, not redeemed
