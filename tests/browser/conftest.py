"""Browser tests: Playwright driving Debian's Chromium (`/usr/bin/chromium`; `make test` installs it)
against `giftcert run api` and `giftcert run` (every worker) as processes, on the session's
PostgreSQL, broker and mail sink. One stack serves the module's tests; each test has a workspace.

Every page a test opens goes through `Visit`: axe-core (tests/browser/assets, the npm package
axe-core 4.14.1, MPL-2.0, vendored as published) is injected before the page's own scripts and must
find no serious or critical violation, the page must log no Content-Security-Policy violation, and a
JavaScript dialog (what an injected `alert` would open) fails the test.

Screenshots go to a temporary folder, so a test run leaves the checkout clean; with
GIFTCERT_SCREENSHOTS_TO_DOCS=1 (`make screenshots`) they replace the README's in docs/images."""

import asyncio
import hashlib
import os
import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, Route, async_playwright

from giftcert.mail.sink import MailFolderSink
from giftcert.settings import Settings
from tests.databases import migrated_database_url
from tests.e2e.conftest import GIFTCERT, Launcher, environment, free_port

CHROMIUM = Path(os.environ.get("GIFTCERT_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
AXE = Path(__file__).parent / "assets" / "axe-4.14.1.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
DOCS_IMAGES = Path(__file__).parents[2] / "docs" / "images"
SCREENSHOTS_ENV = "GIFTCERT_SCREENSHOTS_TO_DOCS"
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""


@dataclass
class Stack:
    base_url: str
    settings: Settings
    mail_folder: Path

    def api_key(self, workspace: str) -> str:
        made = subprocess.run(
            [GIFTCERT, "apikey", "create", workspace, "--scope", "admin", "--label", "browser test operator"],
            env=environment(self.settings), capture_output=True, text=True, timeout=60, check=False,
        )
        assert made.returncode == 0, made.stderr
        found = re.search(r"gck_[A-Za-z0-9_\-]+", made.stdout)
        assert found, made.stdout
        return found[0]

    def open_portal(self, workspace: str) -> None:
        made = subprocess.run(
            [GIFTCERT, "workspace", "set", workspace, "--name", "Alpine Tours", "--portal"],
            env=environment(self.settings), capture_output=True, text=True, timeout=60, check=False,
        )
        assert made.returncode == 0, made.stdout + made.stderr

    def emails_to(self, address: str) -> list[bytes]:
        found = []
        for path in sorted(self.mail_folder.glob("*.eml")):
            content = path.read_bytes()
            if address.encode() in content:
                found.append(content)
        return found

    async def wait_for_emails(self, address: str, count: int, timeout: float = 60.0) -> list[bytes]:
        for _ in range(int(timeout / 0.2)):
            emails = self.emails_to(address)
            if len(emails) >= count:
                return emails
            await asyncio.sleep(0.2)
        raise AssertionError(f"{count} email(s) to {address} did not arrive")


@pytest.fixture(scope="module")
def browser_database_url(postgres_server_url: str) -> str:
    return migrated_database_url(postgres_server_url, "browser")


@pytest.fixture(scope="module")
async def stack(
    browser_database_url: str, kafka_bootstrap_servers: str, mail_sink: MailFolderSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    prefix = f"browser{uuid4().hex[:8]}."
    settings = Settings(
        database_url=browser_database_url, kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_prefix=prefix, consumer_group_prefix=prefix, smtp_port=mail_sink.port, topic_partitions=1,
        relay_poll_seconds=0.02, retry_initial_seconds=0.05, retry_max_seconds=1.0, graceful_timeout_seconds=2.0,
    )
    port = free_port()
    launcher = Launcher(settings, tmp_path_factory.mktemp("browser-stack"))
    try:
        workers = launcher()
        launcher("api", api_port=str(port), portal_test_payments="true", portal_purchase_limit="50")
        await workers.wait_until_started()
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    if (await client.get(f"{base_url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"the API did not answer:\n{launcher.workers[-1].output[-3000:]}")
        yield Stack(base_url, settings, mail_sink.folder)
    finally:
        launcher.stop_all()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        raise AssertionError(f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256, "the vendored axe-core changed"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()


@dataclass
class Visit:
    """One browser context (a visitor's or an operator's), checking every page it loads."""

    context: BrowserContext
    page: Page
    screenshots: Path
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    async def check(self, name: str) -> None:
        """axe-core on the page as it is now: no serious or critical violation."""
        await self.page.wait_for_load_state("domcontentloaded")
        violations = await self.page.evaluate(AXE_RUN)
        assert violations == [], f"{name}: {violations}"
        self.checked.append(name)

    async def screenshot(self, name: str) -> None:
        self.screenshots.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(self.screenshots / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.problems == [], self.problems


def screenshots_folder(temporary: Path) -> Path:
    """docs/images when asked (GIFTCERT_SCREENSHOTS_TO_DOCS=1), else `temporary`."""
    return DOCS_IMAGES if os.environ.get(SCREENSHOTS_ENV, "") not in {"", "0"} else temporary


@pytest.fixture
async def visit(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Visit]:
    context = await browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True, locale="en-US")
    await context.add_init_script(path=str(AXE))
    page = await context.new_page()
    current = Visit(context, page, screenshots=screenshots_folder(tmp_path_factory.getbasetemp() / "screenshots"))

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            current.problems.append(f"CSP: {message.text}")

    async def on_dialog(dialog: Dialog) -> None:
        current.problems.append(f"a dialog opened: {dialog.message}")
        await dialog.dismiss()

    page.on("console", on_console)
    page.on("dialog", on_dialog)
    yield current
    await context.close()
    current.assert_clean()


@dataclass
class RenderedEmail:
    """An email's HTML part as Chromium showed it, and every request the page tried (all refused)."""

    text: str
    heading: str
    requests: list[str]
    page_errors: list[str]


async def render_email_html(browser: Browser, html: str, screenshot: Path | None = None) -> RenderedEmail:
    """The HTML part in a fresh context, as a mail client's web view would load it: every network
    request is recorded and aborted (so a remote image or stylesheet would show up here)."""
    context = await browser.new_context(viewport={"width": 800, "height": 900})
    requests: list[str] = []
    errors: list[str] = []

    async def refuse(route: Route) -> None:
        requests.append(route.request.url)
        await route.abort()

    await context.route("**/*", refuse)
    page = await context.new_page()

    async def on_dialog(dialog: Dialog) -> None:
        errors.append(f"a dialog opened: {dialog.message}")
        await dialog.dismiss()

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", on_dialog)
    try:
        await page.set_content(html, wait_until="load")
        await page.wait_for_load_state("networkidle")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(screenshot), full_page=True)
        return RenderedEmail(await page.inner_text("body"), await page.inner_text("h1"), requests, errors)
    finally:
        await context.close()
