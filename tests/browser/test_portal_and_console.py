"""A visitor and an operator, in Chromium, against the services as processes: the portal purchase
paid on the test payment page and followed to the email; the console's search, void, reactivate,
PDF, resend and bulk upload; hostile customer text shown literally everywhere; forms without their
token or from another origin refused. Every page passes axe-core (conftest.Visit)."""

import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.async_api import Browser, Page, expect

from giftcert.domain.money import Amount
from giftcert.locales import language
from tests.browser.conftest import Stack, Visit, render_email_html
from tests.browser.test_email_in_chromium import html_part

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
HOSTILE_NAME = '<script>alert("name")</script>"onmouseover="alert(1)'
HOSTILE_MESSAGE = '<b>bold</b> <img src=x onerror=alert(2)> "onmouseover=alert(3)'


async def _buy(visit: Visit, stack: Stack, workspace: str, recipient: str, *, name: str = "Robin Friend",
               message: str = "Happy travels!", screenshots: bool = False) -> str:
    """A purchase on the portal, paid on the test payment page, up to the status page saying it was
    sent; returns the certificate's status page address."""
    page = visit.page
    await page.goto(f"{stack.base_url}/portal/{workspace}")
    await visit.check("portal form")
    await page.fill("#amount", "80")
    await page.fill("#purchaser_name", "Pat Buyer")
    await page.fill("#purchaser_email", "pat@example.com")
    await page.fill("#recipient_name", name)
    await page.fill("#recipient_email", recipient)
    await page.fill("#message", message)
    await expect(page.locator("#message-count")).to_have_text(f"{len(message)} / 500 characters")
    if screenshots:
        await visit.screenshot("portal-desktop")
        await page.set_viewport_size({"width": 390, "height": 844})
        await visit.check("portal form at 390 px")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the portal is {width} px wide at 390"
        await visit.screenshot("portal-mobile")
        await page.set_viewport_size({"width": 1200, "height": 900})
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Test payment")
    await visit.check("test payment page")
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Your gift certificate")
    await visit.check("status page")
    masked = f"{recipient[0]}...@{recipient.split('@')[1]}"
    await expect(page.locator("#status-text")).to_have_text(f"Active: sent to {masked}", timeout=60_000)
    await expect(page.locator("#status-badge")).to_have_text("Active")
    return page.url


async def _sign_in(visit: Visit, stack: Stack, workspace: str) -> None:
    page = visit.page
    await page.goto(f"{stack.base_url}/console/{workspace}")
    await expect(page.locator("h1")).to_have_text(f"Sign in to {workspace}")
    await visit.check("sign-in page")
    await page.fill("#api_key", stack.api_key(workspace))
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_contain_text("Dashboard")


async def test_a_visitor_buys_pays_and_sees_the_certificate_become_active_and_the_email_arrive(
    stack: Stack, visit: Visit, browser: Browser
) -> None:
    workspace = f"alpine-{uuid4().hex[:8]}"
    stack.open_portal(workspace)
    recipient = f"robin-{uuid4().hex[:8]}@example.com"
    await _buy(visit, stack, workspace, recipient, screenshots=True)
    (email,) = await stack.wait_for_emails(recipient, 1)
    assert b"application/pdf" in email
    # the HTML part of the email the mailer sent, as a reader's mail client would show it
    rendered = await render_email_html(browser, html_part(email))
    assert rendered.heading == "Alpine Tours"
    assert language("en-US").money(Amount(8000, "EUR")) in rendered.text  # the page's (the browser's) locale
    assert await _code_from_email(stack, recipient) in rendered.text.replace("-", "")
    assert rendered.requests == []


async def _expect_its_whole_value_issued(page: Page) -> None:
    """A paid certificate's page: its balance is its value, its value history one `Issued` entry of it."""
    value = await page.locator("#certificate-amount").inner_text()
    await expect(page.locator("#certificate-balance")).to_have_text(value)
    await expect(page.locator("#value-history tbody tr")).to_have_count(1)
    await expect(page.locator("#value-history tbody tr")).to_contain_text("Issued")
    await expect(page.locator("#value-history tbody tr")).to_contain_text(f"+{value}")


async def test_an_operator_finds_voids_reactivates_downloads_resends_and_uploads(
    stack: Stack, visit: Visit, tmp_path: Path
) -> None:
    workspace = f"alpine-{uuid4().hex[:8]}"
    stack.open_portal(workspace)
    recipient = f"robin-{uuid4().hex[:8]}@example.com"
    await _buy(visit, stack, workspace, recipient)
    await stack.wait_for_emails(recipient, 1)
    page = visit.page
    await _sign_in(visit, stack, workspace)
    # the code, as the recipient reads it in the email, typed in lower case with spaces
    code = await _code_from_email(stack, recipient)
    await page.click("header >> text=Certificates")
    await visit.check("certificates page")
    await _download_the_list_without_its_code(visit, code)
    await page.fill("#code", f"{code[:4].lower()} {code[4:8].lower()} {code[8:].lower()}")
    await page.click("#find-by-code button")  # a POST: the code is in no address
    await expect(page.locator("h1")).to_contain_text(f"{code[:4]}-{code[4:8]}-{code[8:]}")
    assert code not in page.url
    await visit.check("certificate page")
    await _expect_its_whole_value_issued(page)
    await page.fill("#void-reason", "refunded by phone")
    await page.click("button.danger")
    await expect(page.locator("#certificate-status")).to_have_text("Voided")
    await expect(page.locator("ol.timeline")).to_contain_text("refunded by phone")
    await page.fill("#reactivate-reason", "refund cancelled")
    await page.click("button:has-text('Reactivate')")
    await expect(page.locator("#certificate-status")).to_have_text("Active")
    async with page.expect_download() as download_info:
        await page.click("a:has-text('Download PDF')")
    download = await download_info.value
    pdf = await download.path()
    assert pdf is not None
    assert pdf.read_bytes().startswith(b"%PDF-")
    await page.click("button:has-text('Resend email')")
    await expect(page.locator(".notice")).to_contain_text("on its way")
    await stack.wait_for_emails(recipient, 2)
    await visit.screenshot("console-certificate")

    await _upload_bulk_csv_with_one_bad_line(visit, tmp_path)
    for link, name in (("Products", "products page"), ("Settings", "settings page"),
                       ("New certificate", "new certificate page")):
        await page.click(f"header >> text={link}")
        await visit.check(name)
    await page.click("header >> text=Dashboard")
    await expect(page.locator("#revenue-h")).to_be_visible()
    await visit.check("dashboard")
    await visit.screenshot("console-dashboard")
    await page.set_viewport_size({"width": 390, "height": 844})
    for path in ("", "/certificates", "/bulk", "/settings", "/products"):
        await page.goto(f"{stack.base_url}/console/{workspace}{path}")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/console/{workspace}{path} is {width} px wide at 390"
    await page.set_viewport_size({"width": 1200, "height": 900})
    await page.click("button:has-text('Sign out')")
    await expect(page.locator("h1")).to_have_text(f"Sign in to {workspace}")
    await page.goto(f"{stack.base_url}/console/{workspace}/certificates")
    await expect(page.locator("h1")).to_have_text(f"Sign in to {workspace}")


async def _download_the_list_without_its_code(visit: Visit, code: str) -> None:
    """The list's "Download CSV" (what its filters select) in a real browser: the session cookie goes with it."""
    async with visit.page.expect_download() as exported_info:
        await visit.page.click("a:has-text('Download CSV')")
    exported = await (await exported_info.value).path()
    assert exported is not None
    text = exported.read_text(encoding="utf-8")
    assert f",{code[-4:]}," in text
    assert code not in text


async def _upload_bulk_csv_with_one_bad_line(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    csv_file = tmp_path / "certificates.csv"
    csv_file.write_text(
        "reference,amount_minor,purchaser_name,purchaser_email,recipient_name,recipient_email,payment_reference\n"
        "row-1,5000,Pat,pat@example.com,Sam,sam@example.com,bank-1\n"
        "row-2,5000,Pat,pat@example.com,Kim,not-an-email,bank-2\n"
        "row-3,10000,Pat,pat@example.com,Lee,lee@example.com,bank-3\n"
        "row-4,5000,Pat,pat@example.com,Ash,ash@example.com,bank-4\n",
        encoding="utf-8",
    )
    await page.click("text=Bulk upload")
    await visit.check("bulk upload page")
    await page.set_input_files("#file", str(csv_file))
    await page.click("button:has-text('Upload and issue')")
    await expect(page.locator("#bulk-progress-text")).to_contain_text("of 4 rows decided")  # the upload's own page
    await expect(page.locator("#bulk-summary")).to_contain_text("Issued3", timeout=30_000)  # reloaded when done
    report = page.locator("table tbody tr")
    await expect(report).to_have_count(1)
    await expect(report.first).to_contain_text("3")  # the bad row is line 3 of the file
    await expect(report.first).to_contain_text("row-2")
    await visit.check("bulk upload report")


async def _code_from_email(stack: Stack, recipient: str) -> str:
    (email, *_) = stack.emails_to(recipient)
    found = re.search(rb"\b([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4})\b", email)
    assert found, "no code in the email"
    return found[1].decode().replace("-", "")


async def test_customer_text_with_markup_shows_literally_on_every_page(stack: Stack, visit: Visit) -> None:
    workspace = f"alpine-{uuid4().hex[:8]}"
    stack.open_portal(workspace)
    recipient = f"robin-{uuid4().hex[:8]}@example.com"
    await _buy(visit, stack, workspace, recipient, name=HOSTILE_NAME, message=HOSTILE_MESSAGE)
    page = visit.page
    await _sign_in(visit, stack, workspace)
    await page.goto(f"{stack.base_url}/console/{workspace}/certificates")
    await expect(page.locator("main")).to_contain_text(HOSTILE_NAME)
    assert await page.locator("main b, main img").count() == 0
    await page.click("table a")
    await visit.check("certificate page with hostile text")
    await expect(page.locator("main")).to_contain_text(HOSTILE_NAME)
    await expect(page.locator(".message")).to_have_text(HOSTILE_MESSAGE)
    assert await page.locator("main b, main img, [onmouseover], [onerror]").count() == 0
    # and the test payment page, which names the recipient
    cid = page.url.rsplit("/", 1)[1].split("?")[0]
    await page.goto(f"{stack.base_url}/portal/{workspace}/test-payment/{cid}")
    await expect(page.locator("main")).to_contain_text(HOSTILE_NAME)
    assert await page.locator("main b, main img, [onmouseover], [onerror]").count() == 0


async def test_a_form_without_its_token_or_from_another_origin_is_refused(stack: Stack, visit: Visit) -> None:
    workspace = f"alpine-{uuid4().hex[:8]}"
    stack.open_portal(workspace)
    page = visit.page
    await _sign_in(visit, stack, workspace)
    await page.goto(f"{stack.base_url}/console/{workspace}/settings")
    await page.evaluate("document.querySelector('form.card input[name=csrf_token]').remove()")
    await page.fill("#name", "Changed without a token")
    await page.click("button:has-text('Save settings')")
    await expect(page.locator("h1")).to_have_text("Refused")
    await visit.check("refusal page")
    # another site, holding even a valid token (as if leaked): refused by the Origin check
    await page.goto(f"{stack.base_url}/portal/{workspace}")
    token = await page.input_value("input[name=csrf_token]")
    fields = await page.evaluate(
        "() => Object.fromEntries(new FormData(document.querySelector('form.card')).entries())"
    )
    hidden = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items() if k != "csrf_token")
    attack = (
        f'<!doctype html><html lang="en"><title>Win a prize</title><main><form method="post" '
        f'action="{stack.base_url}/portal/{workspace}/purchase"><input type="hidden" name="csrf_token" value="{token}">'
        f'{hidden}<input name="amount" value="50" aria-label="amount"><button type="submit">Claim</button>'
        "</form></main></html>"
    )
    await page.route("http://evil.example/", lambda route: route.fulfill(body=attack, content_type="text/html"))
    await page.goto("http://evil.example/")
    await page.click("button[type=submit]")
    await expect(page.locator(".error.banner")).to_contain_text("sent from another site")
    await page.goto(f"{stack.base_url}/console/{workspace}/settings")
    await expect(page.locator("#name")).to_have_value("Alpine Tours")
    await page.goto(f"{stack.base_url}/console/{workspace}/certificates")
    await expect(page.locator("tbody")).to_contain_text("No certificate matches.")
