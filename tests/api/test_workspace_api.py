"""Operators' workspace routes: settings (defaults until changed, rules kept) and products."""

from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.api.conftest import Shop

pytestmark = pytest.mark.integration


async def test_an_unconfigured_workspace_shows_the_defaults(http: httpx.AsyncClient, other_shop: Shop) -> None:
    settings = await http.get(f"{other_shop.base}/settings", headers=other_shop.admin)
    assert settings.status_code == 200
    assert settings.json() | {"workspace_id": None} == {
        "workspace_id": None, "name": other_shop.workspace, "portal_enabled": False, "currency": "EUR",
        "min_minor": 1000, "max_minor": 100000, "expiry_days": 365, "reminder_days": 30,
        "send_activation_email": True, "redemption_mode": "full", "hold_seconds_default": 900,
        "hold_seconds_max": 86400, "refund_validity_days": 90, "pending_days": 0,
        "remaining_balance_email": False, "locale": "en",
    }


async def test_a_settings_change_keeps_the_fields_not_given(http: httpx.AsyncClient, shop: Shop) -> None:
    changed = await http.patch(
        f"{shop.base}/settings", headers=shop.admin,
        json={"currency": "GBP", "expiry_days": 90, "send_activation_email": False},
    )
    assert changed.status_code == 200
    read = (await http.get(f"{shop.base}/settings", headers=shop.admin)).json()
    assert (read["currency"], read["expiry_days"], read["send_activation_email"]) == ("GBP", 90, False)
    assert (read["portal_enabled"], read["reminder_days"]) == (True, 30)


async def test_the_redemption_mode_and_the_hold_and_refund_settings_change(http: httpx.AsyncClient, shop: Shop) -> None:
    change = {"redemption_mode": "partial", "hold_seconds_default": 600, "hold_seconds_max": 3600,
              "refund_validity_days": 30, "remaining_balance_email": True}
    changed = await http.patch(f"{shop.base}/settings", headers=shop.admin, json=change)
    assert changed.status_code == 200, changed.text
    read = (await http.get(f"{shop.base}/settings", headers=shop.admin)).json()
    assert {name: read[name] for name in change} == change


@pytest.mark.parametrize(
    "change",
    [{"min_minor": 200000}, {"currency": "XXY"}, {"expiry_days": 0}, {"name": "two\nlines"}, {"min_minor": 10.5},
     {"redemption_mode": "half"}, {"hold_seconds_default": 0}, {"hold_seconds_default": 90000},
     {"refund_validity_days": 0}, {"remaining_balance_email": "maybe"}],
    ids=["min_above_max", "unknown_currency", "no_days", "control_character", "float", "unknown_mode",
         "no_hold", "default_hold_above_max", "no_refund_days", "toggle_not_a_boolean"],
)
async def test_inconsistent_settings_are_a_422_and_change_nothing(
    http: httpx.AsyncClient, shop: Shop, change: dict[str, Any]
) -> None:
    before = (await http.get(f"{shop.base}/settings", headers=shop.admin)).json()
    refused = await http.patch(f"{shop.base}/settings", headers=shop.admin, json=change)
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid")
    assert (await http.get(f"{shop.base}/settings", headers=shop.admin)).json() == before


async def test_products_are_created_read_listed_and_replaced(http: httpx.AsyncClient, shop: Shop) -> None:
    created = await http.post(
        f"{shop.base}/products", headers=shop.admin,
        json={"name": "Gift", "fixed_amounts": [10000, 5000, 5000], "segments": ["b2c"]},
    )
    assert created.status_code == 201
    product = created.json()
    assert product["fixed_amounts"] == [5000, 10000]
    url = f"{shop.base}/products/{product['product_id']}"
    assert (await http.get(url, headers=shop.admin)).json() == product
    replaced = await http.put(url, headers=shop.admin, json={"name": "Gift", "min_minor": 2000, "max_minor": 9000,
                                                             "active": False})
    assert replaced.status_code == 200
    assert (replaced.json()["fixed_amounts"], replaced.json()["active"]) == ([], False)
    listed = (await http.get(f"{shop.base}/products", headers=shop.admin)).json()
    assert listed == [replaced.json()]
    missing = await http.put(f"{shop.base}/products/{uuid4()}", headers=shop.admin, json={"name": "X",
                                                                                           "fixed_amounts": [1]})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "product",
    [{"name": "Both", "fixed_amounts": [5000], "min_minor": 1, "max_minor": 2}, {"name": "Neither"},
     {"name": "Backwards", "min_minor": 9000, "max_minor": 100},
     {"name": "Restricted", "fixed_amounts": [5000], "segment_restricted_redemption": True},
     {"name": "", "fixed_amounts": [5000]}, {"name": "Zero", "fixed_amounts": [0]}],
    ids=["both", "neither", "backwards", "restricted_without_segments", "no_name", "zero"],
)
async def test_an_inconsistent_product_is_a_422(http: httpx.AsyncClient, shop: Shop, product: dict[str, Any]) -> None:
    refused = await http.post(f"{shop.base}/products", headers=shop.admin, json=product)
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid")
