"""The console's "Download CSV": what the list's filters select, every page (of two here), as the
API's export writes it; only for a signed-in operator, and not offered for a search by code (the
export never takes a code)."""

import csv
import html
import io
import re

import httpx
import pytest

from giftcert.operations import export
from giftcert_services.runtime.bootstrap import Dependencies
from tests.scenario import code_of
from tests.web.conftest import Shop, csrf_token, hidden, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def pages_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "PAGE_SIZE", 2)


async def _made(browser: httpx.AsyncClient, shop: Shop, email: str, *, paid: bool) -> str:
    page = await browser.get(f"/console/{shop.workspace}/new")
    certificate_id = hidden(page.text, "certificate_id")
    made = await browser.post(f"/console/{shop.workspace}/new", data={
        "csrf_token": csrf_token(page.text), "certificate_id": certificate_id, "amount": "40",
        "purchaser_name": "=Pat", "purchaser_email": email, "recipient_name": "Robin",
        "recipient_email": "robin@example.com", "message": "", "segment": "",
        "payment_reference": f"cash-{certificate_id}" if paid else "",
    })
    assert made.status_code == 303, made.text
    return certificate_id


def _listed(page: str) -> list[str]:
    return re.findall(r'/certificates/([0-9a-f-]{36})"', page)


def _export_link(page: str) -> str | None:
    found = re.search(r'<a [^>]*id="export" href="([^"]+)"', page)
    return None if found is None else html.unescape(found[1])


async def test_the_download_holds_exactly_what_the_lists_filters_select_on_every_page(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    await sign_in(browser, shop)
    wanted = [await _made(browser, shop, "finance@example.com", paid=True) for _ in range(5)]
    await _made(browser, shop, "finance@example.com", paid=False)
    await _made(browser, shop, "someone@example.com", paid=True)

    listing = await browser.get(f"/console/{shop.workspace}/certificates",
                                params={"status": "active", "purchaser_email": "FINANCE@example.com"})
    assert sorted(_listed(listing.text)) == sorted(wanted)
    link = _export_link(listing.text)
    assert link is not None
    assert "status=active" in link
    assert "Download CSV" in listing.text

    downloaded = await browser.get(link)
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.headers["content-type"] == "text/csv; charset=utf-8"
    assert downloaded.headers["content-disposition"].startswith(f'attachment; filename="certificates-{shop.workspace}-')
    rows = list(csv.DictReader(io.StringIO(downloaded.text, newline="")))
    assert [r["certificate_id"] for r in rows] == _listed(listing.text)  # newest first, as listed
    assert {r["purchaser_name"] for r in rows} == {"'=Pat"}


async def test_the_lists_expiry_filters_reach_the_download(browser: httpx.AsyncClient, shop: Shop) -> None:
    await sign_in(browser, shop)
    await _made(browser, shop, "pat@example.com", paid=True)
    await _made(browser, shop, "pat@example.com", paid=False)  # pending: no expiry yet
    far = await browser.get(f"/console/{shop.workspace}/certificates",
                            params={"expires_from": "2000-01-01", "expires_to": "2999-12-31"})
    assert len(_listed(far.text)) == 1
    link = _export_link(far.text)
    assert link is not None
    assert len(list(csv.DictReader(io.StringIO((await browser.get(link)).text)))) == 1
    past = await browser.get(f"/console/{shop.workspace}/certificates", params={"expires_to": "2001-01-01"})
    assert _listed(past.text) == []
    assert _export_link(past.text) is None  # nothing to download


async def test_the_download_takes_no_code(
    browser: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    await sign_in(browser, shop)
    certificate_id = await _made(browser, shop, "pat@example.com", paid=True)
    await _made(browser, shop, "pat@example.com", paid=True)
    code = await code_of(api_deps.engine, certificate_id)
    everything = await browser.get(f"/console/{shop.workspace}/certificates/export", params={"code": code})
    assert len(list(csv.DictReader(io.StringIO(everything.text)))) == 2  # not a filter: ignored
    assert code not in everything.text


async def test_the_download_needs_a_signed_in_operator(browser: httpx.AsyncClient, shop: Shop) -> None:
    refused = await browser.get(f"/console/{shop.workspace}/certificates/export")
    assert refused.status_code == 303
    assert refused.headers["location"].endswith("/sign-in")
    await sign_in(browser, shop)
    bad_kind = await browser.get(f"/console/{shop.workspace}/certificates/export", params={"kind": "gift"})
    assert bad_kind.status_code == 422
