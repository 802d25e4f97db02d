"""The portal's balance check page: a code in any spelling shows the certificate's balance; an
unknown code is said next to the field and counted per visitor's address; past the limit a clear
429 with Retry-After; a form without its token refused; the code never in a URL or in the page."""

from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from giftcert_services.runtime.bootstrap import Dependencies
from tests.web.conftest import ORIGIN, Shop, csrf_token

pytestmark = pytest.mark.integration


async def _active_code(web_app: FastAPI, shop: Shop) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {shop.admin_key}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url=ORIGIN) as api:
        issued = await api.post(f"/v1/workspaces/{shop.workspace}/certificates", headers=admin, json={
            "certificate_id": str(uuid4()), "amount": {"minor": 8000, "currency": "EUR"},
            "purchaser": {"name": "Pat", "email": "pat@example.com"},
            "recipient": {"name": "Robin", "email": "robin@example.com"},
        })
        paid = await api.post(f"/v1/workspaces/{shop.workspace}/certificates/{issued.json()['certificate_id']}"
                              "/payments", headers=admin, json={"payment_reference": f"till-{uuid4().hex[:6]}"})
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


async def test_a_code_typed_in_lower_case_with_spaces_shows_its_balance(
    browser: httpx.AsyncClient, web_app: FastAPI, shop: Shop
) -> None:
    certificate = await _active_code(web_app, shop)
    page = await browser.get(f"/portal/{shop.workspace}/balance")
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    typed = " ".join(certificate["code"][i:i + 4] for i in range(0, 12, 4)).lower()
    shown = await browser.post(f"/portal/{shop.workspace}/balance",
                               data={"csrf_token": csrf_token(page.text), "code": typed})
    assert shown.status_code == 200, shown.text
    assert f"Certificate ending in {certificate['code'][-4:]}" in shown.text
    assert "€80.00" in shown.text  # Babel, for the page's locale (en)
    assert "Active: it can be used for a booking." in shown.text
    assert certificate["code"] not in shown.text
    assert typed not in shown.text


async def test_an_unknown_code_is_said_next_to_the_field_and_guessing_is_stopped_per_address(
    browser: httpx.AsyncClient, web_app: FastAPI, api_deps: Dependencies, shop: Shop
) -> None:
    certificate = await _active_code(web_app, shop)
    page = await browser.get(f"/portal/{shop.workspace}/balance")
    token = csrf_token(page.text)
    for attempt in range(api_deps.settings.guessing_limit.failures):
        unknown = await browser.post(f"/portal/{shop.workspace}/balance",
                                     data={"csrf_token": token, "code": f"WXYZ-WXYZ-WX{attempt:02d}"})
        assert unknown.status_code == 404
        assert "We know of no certificate with this code" in unknown.text
        assert 'aria-describedby="code-error"' in unknown.text
    throttled = await browser.post(f"/portal/{shop.workspace}/balance",
                                   data={"csrf_token": token, "code": certificate["code"]})
    assert throttled.status_code == 429
    assert "Too many codes were tried" in throttled.text
    assert int(throttled.headers["retry-after"]) > 0
    assert certificate["code"][-4:] not in throttled.text
    other_visitor = httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app, client=("10.9.9.9", 1)),
                                      base_url=ORIGIN, headers={"Origin": ORIGIN})
    async with other_visitor:
        own_page = await other_visitor.get(f"/portal/{shop.workspace}/balance")
        answered = await other_visitor.post(f"/portal/{shop.workspace}/balance",
                                            data={"csrf_token": csrf_token(own_page.text), "code": certificate["code"]})
    assert answered.status_code == 200, answered.text


async def test_a_balance_form_without_its_token_or_from_another_site_is_refused(
    browser: httpx.AsyncClient, web_app: FastAPI, shop: Shop
) -> None:
    certificate = await _active_code(web_app, shop)
    page = await browser.get(f"/portal/{shop.workspace}/balance")
    tokenless = await browser.post(f"/portal/{shop.workspace}/balance", data={"code": certificate["code"]})
    foreign = await browser.post(f"/portal/{shop.workspace}/balance", headers={"Origin": "https://evil.example"},
                                 data={"csrf_token": csrf_token(page.text), "code": certificate["code"]})
    for refused in (tokenless, foreign):
        assert refused.status_code == 403
        assert "€80.00" not in refused.text
