"""`locale` on the HTTP purchase doors (POST .../certificates and POST .../portal/purchases): held to
the rule of `purchase-requested`'s `locale`, kept with the certificate, and the recipient's email and
its PDF come out in it; without one, in the workspace's locale."""

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from pydantic import ValidationError

from giftcert.domain.money import Amount
from giftcert.locales import language
from giftcert_contracts.inbound import PurchaseRequested
from tests.api.conftest import Shop, purchase_body
from tests.pdf_text import lines

pytestmark = pytest.mark.integration
GERMAN_SUBJECT = "Ihr Gutschein von "
JAPANESE_SUBJECT = "のギフト券が届きました"


async def _emailed(http: httpx.AsyncClient, shop: Shop, mail_folder: Path, certificate_id: str) -> EmailMessage:
    """Pays the certificate offline, resends its email, and returns that email as a mail client reads it."""
    url = f"{shop.base}/certificates/{certificate_id}"
    paid = await http.post(f"{url}/payments", headers=shop.admin, json={"payment_reference": f"cash-{uuid4().hex}"})
    assert paid.status_code == 200, paid.text
    before = set(mail_folder.glob("*.eml"))
    sent = await http.post(f"{url}/resend", headers=shop.admin)
    assert sent.status_code == 200, sent.text
    (new,) = [p for p in set(mail_folder.glob("*.eml")) - before if sent.json()["to"].encode() in p.read_bytes()]
    email = message_from_bytes(new.read_bytes(), policy=default)
    assert isinstance(email, EmailMessage)
    return email


def _attachment_name(email: EmailMessage) -> str:
    (pdf,) = [part for part in email.iter_attachments() if part.get_content_type() == "application/pdf"]
    return str(pdf.get_filename())


def _pdf_text(email: EmailMessage) -> str:
    """The attached certificate's text, as PDFium reads it."""
    (pdf,) = [part for part in email.iter_attachments() if part.get_content_type() == "application/pdf"]
    content = pdf.get_content()
    assert isinstance(content, bytes)
    return "\n".join(line.text for line in lines(content))


def _body(locale: str | None) -> dict[str, Any]:
    recipient = {"name": "Robin Friend", "email": f"robin-{uuid4().hex[:8]}@example.com"}
    return purchase_body(recipient=recipient) | ({} if locale is None else {"locale": locale})


async def test_an_operators_purchase_naming_a_locale_emails_the_recipient_in_it(
    http: httpx.AsyncClient, shop: Shop, mail_folder: Path
) -> None:
    issued = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=_body("de-AT"))
    assert issued.status_code == 201, issued.text
    assert issued.json()["locale"] == "de-AT"
    email = await _emailed(http, shop, mail_folder, issued.json()["certificate_id"])
    assert str(email["Subject"]).startswith(GERMAN_SUBJECT)
    plain = email.get_body(("plain",))
    assert plain is not None
    assert language("de-AT").money(Amount(5000, "EUR")) == "€\xa050,00"  # Austria's, not Germany's 50,00 €
    assert "€\xa050,00" in plain.get_content()
    assert _attachment_name(email).startswith("gutschein-")
    assert "Gutschein" in _pdf_text(email)
    assert "€\xa050,00" in _pdf_text(email)


async def test_a_portal_purchase_naming_a_locale_emails_the_recipient_in_it(
    http: httpx.AsyncClient, shop: Shop, mail_folder: Path
) -> None:
    started = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=_body("ja"))
    assert started.status_code == 201, started.text
    email = await _emailed(http, shop, mail_folder, started.json()["certificate_id"])
    assert str(email["Subject"]).endswith(JAPANESE_SUBJECT)
    assert _attachment_name(email).startswith("giftken-")
    assert language("ja").gettext("Gift Certificate") in _pdf_text(email)


async def test_a_purchase_naming_no_locale_emails_the_recipient_in_the_workspaces(
    http: httpx.AsyncClient, shop: Shop, mail_folder: Path
) -> None:
    changed = await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"locale": "de"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["locale"] == "de"
    started = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=_body(None))
    assert started.status_code == 201, started.text
    email = await _emailed(http, shop, mail_folder, started.json()["certificate_id"])
    assert str(email["Subject"]).startswith(GERMAN_SUBJECT)


@pytest.mark.parametrize("locale", ["", "d", "de_AT", "de-", "german language", "x" * 36, "de-AT\n"])
async def test_a_locale_the_message_contract_refuses_is_refused_on_both_doors(
    http: httpx.AsyncClient, shop: Shop, locale: str
) -> None:
    with pytest.raises(ValidationError):  # the rule of the Kafka door, which the HTTP doors share
        PurchaseRequested.model_validate(
            purchase_body(locale=locale) | {"workspace_id": shop.workspace, "channel": "portal",
                                            "requested_at": "2026-12-07T00:00:00Z"}
        )
    for path, headers in ((f"{shop.base}/certificates", shop.admin), (f"{shop.base}/portal/purchases", shop.portal)):
        refused = await http.post(path, headers=headers, json=_body(locale))
        assert refused.status_code == 422, (path, locale, refused.text)
