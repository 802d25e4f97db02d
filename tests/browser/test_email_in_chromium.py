"""The certificate email's HTML part as a reader sees it: composed by the mailer's own code, parsed
as a mail client parses it, then rendered in the browser tests' Chromium with every network request
recorded and refused. In each supported language it shows the workspace's name, the amount as Babel
writes it for the locale and the code, and loads nothing from anywhere: customer text carrying an
image, a script or a stylesheet link stays text."""

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from uuid import uuid4

import pytest
from playwright.async_api import Browser

from giftcert.domain.codes import display_code
from giftcert.domain.money import Amount
from giftcert.locales import SUPPORTED, language
from giftcert.mail.compose import compose_certificate_email
from giftcert.rendering.certificate_pdf import CertificateDocument
from tests.browser.conftest import render_email_html, screenshots_folder

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
REMOTE = "http://127.0.0.1:9/pixel.png"
HOSTILE_MESSAGE = (
    f'<img src="{REMOTE}"> <link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
    '<script>alert("message")</script> <style>body{background:url(http://127.0.0.1:9/bg.png)}</style>'
)


def html_part(email: bytes) -> str:
    """The HTML alternative of an email, as a mail client reads it."""
    parsed = message_from_bytes(email, policy=default)
    assert isinstance(parsed, EmailMessage)
    html = parsed.get_body(("html",))
    assert html is not None, "no HTML part"
    return str(html.get_content())


def _composed(locale: str) -> bytes:
    document = CertificateDocument(
        workspace_name="Alpine Tours & Co", amount=Amount(123450, "JPY" if locale == "ja" else "EUR"),
        recipient_name='Rita <img src="http://127.0.0.1:9/name.png">', purchaser_name="Paul",
        message=HOSTILE_MESSAGE, code="ABCDEFGHJKMN", expires_at=datetime(2027, 12, 12, 23, 59, tzinfo=UTC),
        locale=locale,
    )
    email = compose_certificate_email(
        document, mail_from="Alpine Tours <gifts@example.com>", to_email="rita@example.com", pdf=b"%PDF-1.7\n",
        certificate_id=uuid4(), sent_at=datetime(2026, 12, 7, tzinfo=UTC),
    )
    return email.as_bytes()


async def test_the_request_recorder_sees_a_remote_image_when_there_is_one(browser: Browser) -> None:
    rendered = await render_email_html(browser, f'<!doctype html><h1>x</h1><img src="{REMOTE}" alt="">')
    assert rendered.requests == [REMOTE]


@pytest.mark.parametrize("locale", SUPPORTED)
async def test_the_html_part_shows_the_workspace_amount_and_code_and_loads_nothing(
    browser: Browser, locale: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = screenshots_folder(tmp_path_factory.getbasetemp() / "screenshots")
    rendered = await render_email_html(browser, html_part(_composed(locale)), shots / f"email-{locale}.png")
    amount = language(locale).money(Amount(123450, "JPY" if locale == "ja" else "EUR"))
    assert amount in {"€1,234.50", "1.234,50\xa0€", "1\u202f234,50\xa0€", "￥123,450"}, amount
    assert rendered.heading == "Alpine Tours & Co"
    assert amount in rendered.text
    assert display_code("ABCDEFGHJKMN") in rendered.text
    assert rendered.requests == []
    assert HOSTILE_MESSAGE in rendered.text.replace("\n", " ")  # shown as text, every character
    assert rendered.page_errors == []

