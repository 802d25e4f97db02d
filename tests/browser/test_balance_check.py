"""A customer checks a certificate's balance on the portal, in Chromium against the services as
processes: a code typed in lower case with spaces shows the balance, an unknown code is said next to
the field, the page works at 390 px wide and passes axe-core and the CSP (conftest.Visit)."""

import json
import subprocess
from uuid import uuid4

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Stack, Visit
from tests.e2e.conftest import GIFTCERT, environment

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def _paid_certificate(stack: Stack, workspace: str) -> dict[str, str]:
    issued = subprocess.run(
        [GIFTCERT, "certificates", "issue", "--workspace", workspace, "--amount-minor", "6500",
         "--purchaser-name", "Pat", "--purchaser-email", "pat@example.com", "--recipient-name", "Robin",
         "--recipient-email", "robin@example.com", "--payment-reference", f"till-{uuid4().hex[:6]}", "--json"],
        env=environment(stack.settings), capture_output=True, text=True, timeout=60, check=False,
    )
    assert issued.returncode == 0, issued.stdout + issued.stderr
    return dict(json.loads(issued.stdout))


async def test_a_customer_checks_a_balance_at_390_px_and_an_unknown_code_is_said_clearly(
    stack: Stack, visit: Visit
) -> None:
    workspace = f"alpine-{uuid4().hex[:8]}"
    stack.open_portal(workspace)
    certificate = _paid_certificate(stack, workspace)
    code = certificate["code"].replace("-", "")
    page = visit.page
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{stack.base_url}/portal/{workspace}")
    await page.click("text=Check the balance of a gift certificate")
    await expect(page.locator("h1")).to_have_text("Check your balance")
    await visit.check("balance form at 390 px")

    await page.fill("#code", "wxyz wxyz wxyz")
    await page.click("button[type=submit]")
    await expect(page.locator("#code-error")).to_contain_text("We know of no certificate with this code")
    await visit.check("balance form with an unknown code")

    await page.fill("#code", " ".join(code[i:i + 4] for i in range(0, 12, 4)).lower())
    await page.click("button[type=submit]")
    await expect(page.locator("#balance-result h2")).to_have_text(f"Certificate ending in {code[-4:]}")
    await expect(page.locator("#balance")).to_have_text("€65.00")  # Babel, for the browser's locale (en-US)
    await expect(page.locator("#status")).to_contain_text("Active")
    await visit.check("balance shown at 390 px")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the balance page is {width} px wide at 390"
    assert code not in page.url.upper()
    assert code not in await page.content()
