"""Steps the console's tests share: settings saved through the form, a certificate sold by phone, and
a partial-mode certificate of EUR 75 with a booking platform's key to spend it."""

import re
from dataclasses import dataclass

import httpx

from giftcert.domain.api_key import Scope
from giftcert.operations.api_keys import create_api_key
from giftcert_services.runtime.bootstrap import Dependencies
from tests.web.conftest import Shop, csrf_token, hidden, sign_in

SETTINGS = {
    "name": "Alpine Tours", "portal_enabled": "on", "currency": "EUR", "min_amount": "10", "max_amount": "1000",
    "expiry_days": "365", "reminder_days": "30", "locale": "en",
}


async def save_settings(browser: httpx.AsyncClient, shop: Shop, **changes: str) -> httpx.Response:
    page = await browser.get(f"/console/{shop.workspace}/settings")
    return await browser.post(f"/console/{shop.workspace}/settings",
                              data={"csrf_token": csrf_token(page.text)} | SETTINGS | changes)


async def paid_certificate(browser: httpx.AsyncClient, shop: Shop, amount: str) -> str:
    page = await browser.get(f"/console/{shop.workspace}/new")
    certificate_id = hidden(page.text, "certificate_id")
    made = await browser.post(f"/console/{shop.workspace}/new", data={
        "csrf_token": csrf_token(page.text), "certificate_id": certificate_id, "amount": amount,
        "purchaser_name": "Pat", "purchaser_email": "pat@example.com", "recipient_name": "Robin",
        "recipient_email": "robin@example.com", "message": "", "segment": "", "payment_reference": "cash-1",
    })
    assert made.status_code == 303, made.text
    return certificate_id


@dataclass(frozen=True)
class Spendable:
    certificate_id: str
    code: str
    booking: dict[str, str]
    """The booking platform's Authorization header."""


async def spendable_in_part(browser: httpx.AsyncClient, shop: Shop, deps: Dependencies) -> Spendable:
    """Signed in, the workspace in `partial` mode, a EUR 75 certificate paid, its code read from its
    page as an operator reads it, and a `booking` key."""
    await sign_in(browser, shop)
    assert (await save_settings(browser, shop, redemption_mode="partial")).status_code == 200
    certificate_id = await paid_certificate(browser, shop, "75")
    key = await create_api_key(deps.new_uow(), shop.workspace, Scope.BOOKING, "platform", deps.clock.now())
    page = await browser.get(f"/console/{shop.workspace}/certificates/{certificate_id}")
    code = re.search(r'<span class="code">([^<]+)</span>', page.text)
    assert code
    return Spendable(certificate_id, code[1], {"Authorization": f"Bearer {key.secret}"})
