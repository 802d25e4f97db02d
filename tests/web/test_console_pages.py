"""The console's pages: a session only from a live admin key of the workspace, in an HttpOnly,
SameSite=Strict cookie; search by a code in any spelling; void and reactivate through the ledger;
forms without their token or from another site refused; customer text shown as text."""

import asyncio
import re

import httpx
import pytest

from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.web.security import SESSION_COOKIE
from tests.scenario import code_of
from tests.web.conftest import Shop, csrf_token, hidden, sign_in

pytestmark = pytest.mark.integration
HOSTILE = '<script>alert(1)</script>"onmouseover="alert(2)<b>bold</b>'


async def _manual(browser: httpx.AsyncClient, shop: Shop, **changes: str) -> str:
    page = await browser.get(f"/console/{shop.workspace}/new")
    data = {
        "csrf_token": csrf_token(page.text), "certificate_id": hidden(page.text, "certificate_id"), "amount": "75",
        "purchaser_name": "Pat", "purchaser_email": "pat@example.com", "recipient_name": "Robin",
        "recipient_email": "robin@example.com", "message": "", "segment": "", "payment_reference": "cash-1",
    } | changes
    made = await browser.post(f"/console/{shop.workspace}/new", data=data)
    assert made.status_code == 303, made.text
    return data["certificate_id"]


async def test_pages_need_a_session_from_an_admin_key_of_the_workspace(browser: httpx.AsyncClient,
                                                                       shop: Shop) -> None:
    assert (await browser.get(f"/console/{shop.workspace}")).headers["location"].endswith("/sign-in")
    page = await browser.get(f"/console/{shop.workspace}/sign-in")
    portal_key = await browser.post(f"/console/{shop.workspace}/sign-in",
                                    data={"csrf_token": csrf_token(page.text), "api_key": shop.portal_key})
    assert portal_key.status_code == 401
    signed = await browser.post(f"/console/{shop.workspace}/sign-in",
                                data={"csrf_token": csrf_token(page.text), "api_key": shop.admin_key})
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http here; https origins get Secure
    dashboard = await browser.get(f"/console/{shop.workspace}")
    assert dashboard.status_code == 200
    assert "Revenue per month" in dashboard.text
    tampered = browser.cookies[SESSION_COOKIE].replace(shop.workspace, "x")
    browser.cookies.set(SESSION_COOKIE, tampered[:-3] + "AAA", path=f"/console/{shop.workspace}")
    assert (await browser.get(f"/console/{shop.workspace}")).status_code == 303


async def test_signing_out_ends_the_session(browser: httpx.AsyncClient, shop: Shop) -> None:
    await sign_in(browser, shop)
    page = await browser.get(f"/console/{shop.workspace}")
    out = await browser.post(f"/console/{shop.workspace}/sign-out", data={"csrf_token": csrf_token(page.text)})
    assert out.status_code == 303
    assert (await browser.get(f"/console/{shop.workspace}")).status_code == 303


async def test_a_code_typed_in_any_spelling_finds_its_certificate_and_void_and_reactivate_work(
    browser: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    await sign_in(browser, shop)
    cid = await _manual(browser, shop)
    code = await code_of(api_deps.engine, cid)
    typed = f"{code[:4].lower()} {code[4:8].lower()} {code[8:].lower()}"
    listed = await browser.get(f"/console/{shop.workspace}/certificates")
    found = await browser.post(f"/console/{shop.workspace}/certificates/find",
                               data={"csrf_token": csrf_token(listed.text), "code": typed})
    assert (found.status_code, found.headers["location"]) == (303, f"/console/{shop.workspace}/certificates/{cid}")
    page = await browser.get(f"/console/{shop.workspace}/certificates/{cid}")
    voided = await browser.post(f"/console/{shop.workspace}/certificates/{cid}/void",
                                data={"csrf_token": csrf_token(page.text), "reason": "refunded by phone"},
                                follow_redirects=True)
    assert 'data-status="voided"' in voided.text
    assert "refunded by phone" in voided.text
    back = await browser.post(f"/console/{shop.workspace}/certificates/{cid}/reactivate",
                              data={"csrf_token": csrf_token(page.text), "reason": "refund cancelled"},
                              follow_redirects=True)
    assert 'id="certificate-status">Active' in back.text


async def test_a_code_is_looked_up_from_a_form_body_never_from_an_address(
    browser: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    await sign_in(browser, shop)
    cid = await _manual(browser, shop)
    code = await code_of(api_deps.engine, cid)
    in_address = await browser.get(f"/console/{shop.workspace}/certificates", params={"code": code})
    assert in_address.status_code == 422
    assert "a code never goes in an address" in in_address.text
    assert code not in in_address.text
    assert 'name="code" value' not in in_address.text  # the form does not carry it on either
    unknown = await browser.post(f"/console/{shop.workspace}/certificates/find",
                                 data={"csrf_token": csrf_token(in_address.text), "code": "WXYZ-WXYZ-WXYZ"})
    assert unknown.status_code == 404
    assert "We know of no certificate with this code" in unknown.text
    tokenless = await browser.post(f"/console/{shop.workspace}/certificates/find", data={"code": code})
    assert tokenless.status_code == 403


async def test_a_command_without_its_token_or_from_another_site_changes_nothing(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    await sign_in(browser, shop)
    cid = await _manual(browser, shop)
    page = await browser.get(f"/console/{shop.workspace}/certificates/{cid}")
    url = f"/console/{shop.workspace}/certificates/{cid}/void"
    no_token = await browser.post(url, data={"reason": "x"})
    forged = await browser.post(url, data={"csrf_token": csrf_token(page.text), "reason": "x"},
                                headers={"Origin": "https://evil.example"})
    no_origin = await browser.post(url, data={"csrf_token": csrf_token(page.text), "reason": "x"},
                                   headers={"Origin": ""})
    assert (no_token.status_code, forged.status_code, no_origin.status_code) == (403, 403, 403)
    still = await browser.get(f"/console/{shop.workspace}/certificates/{cid}")
    assert 'id="certificate-status">Active' in still.text


async def test_customer_text_is_shown_as_text_on_console_pages(browser: httpx.AsyncClient, shop: Shop) -> None:
    await sign_in(browser, shop)
    cid = await _manual(browser, shop, recipient_name=HOSTILE, purchaser_name=HOSTILE, message=HOSTILE)
    for path in (f"/certificates/{cid}", "/certificates"):
        page = await browser.get(f"/console/{shop.workspace}{path}")
        assert "<script>alert(1)" not in page.text
        assert "<b>bold" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;onmouseover=&#34;alert(2)" in page.text
    assert re.search(r"<script[^>]*>[^<]", page.text) is None  # no inline script on the page


async def test_revoking_the_key_ends_its_sessions_at_once(
    browser: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    await sign_in(browser, shop)
    assert (await browser.get(f"/console/{shop.workspace}")).status_code == 200
    async with api_deps.new_uow() as uow:
        (key,) = [k for k in await uow.api_keys.of_workspace(shop.workspace) if k.scope.value == "admin"]
        await uow.api_keys.revoke(shop.workspace, key.id, api_deps.clock.now())
        await uow.commit()
    assert (await browser.get(f"/console/{shop.workspace}")).status_code == 303


async def test_an_https_origin_gets_secure_cookies(web_app: object, shop: Shop) -> None:
    transport = httpx.ASGITransport(app=web_app)  # type: ignore[arg-type]
    origin = "https://gifts.example"
    async with httpx.AsyncClient(transport=transport, base_url=origin, headers={"Origin": origin}) as client:
        page = await client.get(f"/console/{shop.workspace}/sign-in")
        assert "Secure" in page.headers["set-cookie"]
        signed = await client.post(f"/console/{shop.workspace}/sign-in",
                                   data={"csrf_token": csrf_token(page.text), "api_key": shop.admin_key})
    assert signed.status_code == 303
    assert "Secure" in signed.headers["set-cookie"]


async def test_a_bulk_upload_reports_its_bad_line_and_the_list_pages_through_the_rest(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    await sign_in(browser, shop)
    rows = [f"r{n},{1000 + n},Pat,pat@example.com,Sam {n},sam{n}@example.com,bank-{n}" for n in range(27)]
    rows[5] = "r5,12,Pat,pat@example.com,Sam,sam@example.com,bank-5"  # under the workspace's minimum
    csv = "reference,amount_minor,purchaser_name,purchaser_email,recipient_name,recipient_email,payment_reference\n"
    page = await browser.get(f"/console/{shop.workspace}/bulk")
    uploaded = await browser.post(
        f"/console/{shop.workspace}/bulk", data={"csrf_token": csrf_token(page.text)},
        files={"file": ("bulk.csv", (csv + "\n".join(rows) + "\n").encode(), "text/csv")},
    )
    assert uploaded.status_code == 303, uploaded.text  # the rows are issued in the background
    job = uploaded.headers["location"]
    for _ in range(300):
        progress = (await browser.get(f"{job}/progress")).json()
        if progress["finished"]:
            break
        await asyncio.sleep(0.1)
    assert progress | {"text": None} == {"done": 27, "total": 27, "finished": True, "text": None}
    assert progress["text"] == "27 of 27 rows decided"
    report = await browser.get(job)
    assert report.status_code == 200, report.text
    assert "data-progress-url" not in report.text  # done: the page no longer follows it
    assert (await browser.get(f"/console/{shop.workspace}/bulk/no-such-upload")).status_code == 404
    summary = re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", report.text.split('id="bulk-summary"')[1].split("</dl>")[0]))
    assert summary.endswith("Issued26Alreadyissued0Failed1")
    assert "<td>7</td><td>r5</td><td>amount_out_of_range</td>" in report.text  # line 7: the header is line 1
    first = await browser.get(f"/console/{shop.workspace}/certificates")
    cursor = re.search(r'href="([^"]*after=[^"]+)"', first.text)
    assert cursor, "no next page"
    second = await browser.get(cursor[1].replace("&amp;", "&"))
    ids = [re.findall(r"/certificates/([0-9a-f-]{36})", p.text) for p in (first, second)]
    assert (len(ids[0]), len(ids[1])) == (25, 1)
    assert not set(ids[0]) & set(ids[1])


async def test_a_refusal_is_said_in_the_operators_language(browser: httpx.AsyncClient, shop: Shop) -> None:
    await sign_in(browser, shop)
    cid = await _manual(browser, shop)
    page = await browser.get(f"/console/{shop.workspace}/certificates/{cid}")
    again = None
    for _ in range(2):
        again = await browser.post(f"/console/{shop.workspace}/certificates/{cid}/void",
                                   data={"csrf_token": csrf_token(page.text), "reason": "refunded"},
                                   headers={"Accept-Language": "de"})
    assert again is not None
    assert again.status_code == 409
    assert "Der Gutschein ist bereits storniert." in again.text
    reactivated = await browser.post(f"/console/{shop.workspace}/certificates/{cid}/reactivate",
                                     data={"csrf_token": csrf_token(page.text), "reason": "back"},
                                     headers={"Accept-Language": "fr"}, follow_redirects=True)
    assert reactivated.status_code == 200
    twice = await browser.post(f"/console/{shop.workspace}/certificates/{cid}/reactivate",
                               data={"csrf_token": csrf_token(page.text), "reason": "back"},
                               headers={"Accept-Language": "fr"})
    assert twice.status_code == 409
    assert "Seul un bon cadeau annulé peut être réactivé." in twice.text
