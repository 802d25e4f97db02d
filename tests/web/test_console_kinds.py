"""Contract v2's kinds and orders in the console: the manual form issues a purchased, promotional or
credit certificate under the contract's own kind rule (a refusal next to its field, nothing issued);
the list searches by kind and shows it; a certificate's page shows its kind and the orders it paid
for, with what it applied to each."""

import re
from html import unescape
from uuid import uuid4

import httpx
import pytest

from giftcert.domain.api_key import Scope
from giftcert.operations.api_keys import create_api_key
from giftcert_services.runtime.bootstrap import Dependencies
from tests.web.conftest import Shop, csrf_token, hidden, sign_in

pytestmark = pytest.mark.integration


async def _manual(browser: httpx.AsyncClient, shop: Shop, **changes: str) -> tuple[str, httpx.Response]:
    page = await browser.get(f"/console/{shop.workspace}/new")
    data = {
        "csrf_token": csrf_token(page.text), "certificate_id": hidden(page.text, "certificate_id"), "amount": "75",
        "purchaser_name": "Pat", "purchaser_email": "pat@example.com", "recipient_name": "Robin",
        "recipient_email": "robin@example.com", "message": "", "segment": "", "payment_reference": "cash-1",
        "kind": "purchased", "reason": "", "replaces_order_id": "",
    } | changes
    return data["certificate_id"], await browser.post(f"/console/{shop.workspace}/new", data=data)


def _error_of(html: str, name: str) -> str:
    found = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', html)
    return unescape(found[1]) if found else ""


async def test_the_manual_form_issues_promotional_and_credit_certificates_active_without_payment(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    await sign_in(browser, shop)
    form = await browser.get(f"/console/{shop.workspace}/new")
    assert '<option value="promotional">Promotional</option>' in form.text
    promotional, made = await _manual(browser, shop, kind="promotional", reason="trade fair", payment_reference="")
    assert made.status_code == 303, made.text
    page = await browser.get(f"/console/{shop.workspace}/certificates/{promotional}")
    assert 'id="certificate-kind" data-kind="promotional">Promotional<' in page.text
    assert 'id="certificate-status">Active' in page.text
    credit, made = await _manual(browser, shop, kind="credit", reason="tour cancelled",
                                 replaces_order_id="order-99", payment_reference="")
    assert made.status_code == 303, made.text
    page = await browser.get(f"/console/{shop.workspace}/certificates/{credit}")
    assert 'data-kind="credit">Credit<' in page.text
    assert 'id="certificate-replaces">order-99<' in page.text


async def test_a_promotional_certificate_without_a_reason_is_refused_next_to_the_reason(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    await sign_in(browser, shop)
    refused_id, refused = await _manual(browser, shop, kind="promotional", reason="  ", payment_reference="")
    assert refused.status_code == 422
    assert _error_of(refused.text, "reason") == "Give the reason: it is kept with the certificate."
    assert 'aria-describedby="reason-error"' in refused.text
    german = await browser.post(f"/console/{shop.workspace}/new", headers={"Accept-Language": "de"}, data={
        "csrf_token": csrf_token(refused.text), "certificate_id": refused_id, "amount": "75", "purchaser_name": "Pat",
        "purchaser_email": "pat@example.com", "recipient_name": "Robin", "recipient_email": "robin@example.com",
        "kind": "credit", "reason": "tour cancelled",
    })
    assert german.status_code == 422
    assert _error_of(german.text, "replaces_order_id") == "Geben Sie die Bestellung an, die diese Gutschrift ersetzt."
    assert (await browser.get(f"/console/{shop.workspace}/certificates/{refused_id}")).status_code == 404


async def test_only_a_purchased_certificate_takes_a_payment_and_only_the_others_a_reason(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    await sign_in(browser, shop)
    paid_promotion, refused = await _manual(browser, shop, kind="promotional", reason="raffle")
    assert refused.status_code == 422
    assert _error_of(refused.text, "payment_reference") == "A promotional or credit certificate takes no payment."
    _, refused = await _manual(browser, shop, reason="raffle")
    assert refused.status_code == 422
    assert _error_of(refused.text, "kind") == "Choose promotional or credit to give a reason or an order."
    assert (await browser.get(f"/console/{shop.workspace}/certificates/{paid_promotion}")).status_code == 404


async def test_the_list_searches_by_kind_and_shows_each_kind(browser: httpx.AsyncClient, shop: Shop) -> None:
    await sign_in(browser, shop)
    purchased, _ = await _manual(browser, shop)
    promotional, _ = await _manual(browser, shop, kind="promotional", reason="raffle", payment_reference="")
    everything = await browser.get(f"/console/{shop.workspace}/certificates")
    assert '<td class="kind" data-kind="purchased">Purchased</td>' in everything.text
    assert '<td class="kind" data-kind="promotional">Promotional</td>' in everything.text
    found = await browser.get(f"/console/{shop.workspace}/certificates", params={"kind": "promotional"})
    assert f"/certificates/{promotional}" in found.text
    assert f"/certificates/{purchased}" not in found.text
    assert '<option value="promotional" selected>' in found.text
    unknown = await browser.get(f"/console/{shop.workspace}/certificates", params={"kind": "free"})
    assert "Choose a kind from the list." in unknown.text


async def test_a_certificate_page_lists_the_orders_it_paid_for_with_what_it_applied(
    browser: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    await sign_in(browser, shop)
    certificate_id, made = await _manual(browser, shop)
    assert made.status_code == 303, made.text
    page = await browser.get(f"/console/{shop.workspace}/certificates/{certificate_id}")
    assert 'data-kind="purchased">Purchased<' in page.text
    assert "No order yet." in page.text
    code = re.search(r'<span class="code">([^<]+)</span>', page.text)
    assert code
    booking = await create_api_key(api_deps.new_uow(), shop.workspace, Scope.BOOKING, "platform", api_deps.clock.now())
    redeemed = await browser.post(
        f"/v1/workspaces/{shop.workspace}/redemptions", headers={"Authorization": f"Bearer {booking.secret}"},
        json={"request_id": str(uuid4()), "order_id": "order-4711", "code": code[1],
              "order_total": {"minor": 10000, "currency": "EUR"}},
    )
    assert redeemed.status_code == 200, redeemed.text
    page = await browser.get(f"/console/{shop.workspace}/certificates/{certificate_id}")
    orders = re.search(r'<table id="orders">.*?</table>', page.text, re.DOTALL)
    assert orders
    rows = re.findall(r'<tr><td>([^<]+)</td><td class="amount">([^<]*)</td>\s*<td class="amount">([^<]*)</td></tr>',
                      orders[0])
    assert rows == [("order-4711", "€75.00", "€0.00")]
