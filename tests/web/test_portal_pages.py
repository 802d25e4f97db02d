"""The portal's pages: a purchase decided by the ledger and handed to payment, refusals next to
their fields, forms without their token or from another site refused, the per-address limit, the
Content-Security-Policy, and customer text shown as text."""

from uuid import uuid4

import httpx
import pytest

from giftcert.domain.product import Product
from giftcert_services.runtime.bootstrap import Dependencies
from tests.scenario import configure
from tests.web.conftest import PURCHASE_LIMIT, Shop, csrf_token, hidden

pytestmark = pytest.mark.integration

HOSTILE = '<script>alert(1)</script>"onmouseover="alert(2)<b>bold</b>'


def _purchase(page: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_token(page), "certificate_id": hidden(page, "certificate_id"), "segment": "",
        "amount": "50", "purchaser_name": "Pat Buyer", "purchaser_email": "pat@example.com",
        "recipient_name": "Robin Friend", "recipient_email": "robin@example.com", "message": "Enjoy",
    } | changes


async def test_a_workspace_whose_portal_is_off_has_no_portal(browser: httpx.AsyncClient, api_deps: Dependencies,
                                                             workspace: str) -> None:
    await configure(api_deps.engine, workspace, portal_enabled=False)
    page = await browser.get(f"/portal/{workspace}")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


async def test_a_purchase_creates_a_pending_certificate_and_hands_over_to_payment(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    form = await browser.get(f"/portal/{shop.workspace}")
    assert form.status_code == 200
    csp = form.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    data = _purchase(form.text)
    bought = await browser.post(f"/portal/{shop.workspace}/purchase", data=data)
    assert bought.status_code == 303, bought.text
    cid = data["certificate_id"]
    assert bought.headers["location"].startswith(f"/portal/{shop.workspace}/test-payment/{cid}?return_url=")
    status = await browser.get(f"/portal/{shop.workspace}/certificates/{cid}/status")
    assert status.json()["status"] == "pending"
    again = await browser.post(f"/portal/{shop.workspace}/purchase", data=data)
    assert again.status_code == 303  # the same form twice: the same certificate, still pending


async def test_problems_are_shown_next_to_their_fields(browser: httpx.AsyncClient, shop: Shop) -> None:
    form = await browser.get(f"/portal/{shop.workspace}")
    refused = await browser.post(
        f"/portal/{shop.workspace}/purchase",
        data=_purchase(form.text, amount="5000000", recipient_email="not-an-address", purchaser_name=""),
    )
    assert refused.status_code in {409, 422}
    assert 'id="recipient_email-error"' in refused.text
    assert 'id="purchaser_name-error"' in refused.text
    too_much = await browser.post(f"/portal/{shop.workspace}/purchase", data=_purchase(form.text, amount="5000000"))
    assert too_much.status_code == 409
    assert 'id="amount-error"' in too_much.text


async def test_a_form_without_its_token_or_from_another_site_is_refused(browser: httpx.AsyncClient,
                                                                        shop: Shop) -> None:
    form = await browser.get(f"/portal/{shop.workspace}")
    no_token = await browser.post(f"/portal/{shop.workspace}/purchase", data=_purchase(form.text, csrf_token=""))
    forged = await browser.post(
        f"/portal/{shop.workspace}/purchase", data=_purchase(form.text), headers={"Origin": "https://evil.example"}
    )
    assert (no_token.status_code, forged.status_code) == (403, 403)
    status = await browser.get(f"/portal/{shop.workspace}/certificates/{hidden(form.text, 'certificate_id')}/status")
    assert status.status_code == 404  # nothing was bought


async def test_one_address_sending_too_many_purchase_forms_gets_429(web_app: object, shop: Shop) -> None:
    transport = httpx.ASGITransport(app=web_app, client=("10.9.9.9", 40000))  # type: ignore[arg-type]
    origin = "http://giftcert.test"
    async with httpx.AsyncClient(transport=transport, base_url=origin, headers={"Origin": origin}) as client:
        form = await client.get(f"/portal/{shop.workspace}")
        answers = [
            (await client.post(f"/portal/{shop.workspace}/purchase",
                               data=_purchase(form.text, certificate_id=""))).status_code
            for _ in range(PURCHASE_LIMIT + 1)
        ]
    assert answers[:PURCHASE_LIMIT] == [303] * PURCHASE_LIMIT
    assert answers[-1] == 429


async def test_customer_text_is_shown_as_text(browser: httpx.AsyncClient, shop: Shop) -> None:
    form = await browser.get(f"/portal/{shop.workspace}")
    data = _purchase(form.text, recipient_name=HOSTILE)
    await browser.post(f"/portal/{shop.workspace}/purchase", data=data)
    payment = await browser.get(f"/portal/{shop.workspace}/test-payment/{data['certificate_id']}")
    assert payment.status_code == 200
    assert "<script>alert(1)" not in payment.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;onmouseover=&#34;alert(2)&lt;b&gt;" in payment.text


async def test_a_segment_sees_its_products_fixed_amounts_and_buys_one(
    browser: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    async with api_deps.new_uow() as uow:
        await uow.products.put(
            Product(id=uuid4(), workspace_id=shop.workspace, name="Business", fixed_amounts=(2500, 10000),
                    segments=("b2b",)),
            api_deps.clock.now(),
        )
        await uow.commit()
    nobody = await browser.get(f"/portal/{shop.workspace}")
    assert nobody.status_code == 404  # its only product is not offered without the segment
    form = await browser.get(f"/portal/{shop.workspace}", params={"segment": "b2b"})
    assert 'name="amount_minor" value="2500"' in form.text
    assert 'id="amount"' not in form.text  # fixed amounts only
    data = _purchase(form.text, amount="", amount_minor="10000", segment="b2b")
    bought = await browser.post(f"/portal/{shop.workspace}/purchase", data=data)
    assert bought.status_code == 303, bought.text
    status = await browser.get(f"/portal/{shop.workspace}/certificates/{data['certificate_id']}/status")
    assert status.json()["amount"] == "€100.00"  # Babel, for the page's locale (en)
