"""The pages' language: the visitor's Accept-Language when the catalogs have it, else the workspace's
locale; texts from the catalogs, money and dates by Babel for that locale. The purchase form's
language choice is the recipient's `locale`: it starts at the page's, and the email comes out in it."""

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from giftcert.domain.money import Amount
from giftcert.locales import language
from giftcert_services.runtime.bootstrap import Dependencies
from tests.scenario import configure
from tests.web.conftest import Shop, csrf_token, hidden, sign_in

pytestmark = pytest.mark.integration
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def _purchase(page: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_token(page), "certificate_id": hidden(page, "certificate_id"), "segment": "",
        "amount": "50", "purchaser_name": "Pat Buyer", "purchaser_email": "pat@example.com",
        "recipient_name": "Robin Friend", "recipient_email": f"robin-{uuid4().hex[:8]}@example.com",
        "message": "Enjoy",
    } | changes


def _selected_locale(page: str) -> str:
    start = page.index('<select id="locale"')
    options = page[start:page.index("</select>", start)]
    chosen = options[:options.index(" selected>")]
    return chosen[chosen.rindex('value="') + 7:].split('"')[0]


async def test_the_portal_reads_in_the_visitors_language_with_its_money(browser: httpx.AsyncClient, shop: Shop) -> None:
    page = await browser.get(f"/portal/{shop.workspace}", headers=GERMAN)
    assert '<html lang="de-DE">' in page.text
    assert "Einen Gutschein verschenken" in page.text
    assert "Weiter zur Zahlung" in page.text
    low = language("de-DE").money(Amount(1000, "EUR"))
    assert low == "10,00\xa0€"
    assert f"Von {low} bis" in page.text
    assert _selected_locale(page.text) == "de-DE"  # the recipient's language starts at the page's


async def test_without_a_language_the_catalogs_have_the_portal_reads_in_the_workspaces(
    browser: httpx.AsyncClient, api_deps: Dependencies, workspace: str
) -> None:
    await configure(api_deps.engine, workspace, locale="ja")
    for headers in ({}, {"Accept-Language": "pt-BR,pt;q=0.9"}):
        page = await browser.get(f"/portal/{workspace}", headers=headers)
        assert '<html lang="ja">' in page.text
        assert "ギフト券を贈る" in page.text
        assert _selected_locale(page.text) == "ja"
    english = await browser.get(f"/portal/{workspace}", headers={"Accept-Language": "en-GB,ja;q=0.5"})
    assert "Give a gift certificate" in english.text


async def test_the_language_chosen_on_the_form_is_the_one_the_recipient_reads(
    browser: httpx.AsyncClient, shop: Shop, mail_folder: Path
) -> None:
    form = await browser.get(f"/portal/{shop.workspace}", headers=GERMAN)
    data = _purchase(form.text, locale="ja")
    bought = await browser.post(f"/portal/{shop.workspace}/purchase", data=data, headers=GERMAN)
    assert bought.status_code == 303, bought.text
    status = await browser.get(f"/portal/{shop.workspace}/certificates/{data['certificate_id']}/status", headers=GERMAN)
    assert status.json()["label"] == "Ausstehend"
    assert status.json()["text"] == "Warten auf Ihre Zahlung ..."
    assert status.json()["amount"] == "50,00\xa0€"
    admin = {"Authorization": f"Bearer {shop.admin_key}"}
    url = f"/v1/workspaces/{shop.workspace}/certificates/{data['certificate_id']}"
    paid = await browser.post(f"{url}/payments", headers=admin, json={"payment_reference": f"cash-{uuid4().hex}"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["locale"] == "ja"
    before = set(mail_folder.glob("*.eml"))
    assert (await browser.post(f"{url}/resend", headers=admin)).status_code == 200
    (sent,) = [p for p in set(mail_folder.glob("*.eml")) - before if data["recipient_email"].encode() in p.read_bytes()]
    email = message_from_bytes(sent.read_bytes(), policy=default)
    assert isinstance(email, EmailMessage)
    assert str(email["Subject"]).endswith("のギフト券が届きました")


async def test_a_language_the_contract_refuses_is_shown_next_to_its_field(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    form = await browser.get(f"/portal/{shop.workspace}", headers=GERMAN)
    refused = await browser.post(f"/portal/{shop.workspace}/purchase", headers=GERMAN,
                                 data=_purchase(form.text, locale="<script>"))
    assert refused.status_code == 422
    assert '<p class="error" id="locale-error">Wählen Sie eine Sprache aus der Liste.</p>' in refused.text
    assert "<script>" not in refused.text


async def test_the_console_reads_in_the_operators_language_else_the_workspaces(
    browser: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    await configure(api_deps.engine, shop.workspace, locale="it")
    await sign_in(browser, shop)
    french = await browser.get(f"/console/{shop.workspace}", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="fr-FR">' in french.text
    assert "Tableau de bord" in french.text
    assert "Passif en cours" in french.text
    assert language("fr-FR").money(Amount(0, "EUR")) in french.text
    italian = await browser.get(f"/console/{shop.workspace}/certificates")
    assert '<html lang="it">' in italian.text
    assert "Buoni regalo" in italian.text
    assert "Cerca" in italian.text


async def test_the_console_sets_the_workspaces_locale_and_a_manual_certificates(
    browser: httpx.AsyncClient, shop: Shop
) -> None:
    await sign_in(browser, shop)
    page = await browser.get(f"/console/{shop.workspace}/settings")
    saved = await browser.post(f"/console/{shop.workspace}/settings", data={
        "csrf_token": csrf_token(page.text), "name": "Alpine Tours", "portal_enabled": "on", "currency": "EUR",
        "min_amount": "10", "max_amount": "1000", "expiry_days": "365", "reminder_days": "30", "locale": "es",
    })
    assert saved.status_code == 200, saved.text
    assert '<html lang="es">' in saved.text  # the workspace's language now, no Accept-Language given
    assert "Configuración guardada." in saved.text
    form = await browser.get(f"/console/{shop.workspace}/new")
    assert _selected_locale(form.text) == "es"  # the recipient's language starts at the workspace's
    data = {
        "csrf_token": csrf_token(form.text), "certificate_id": hidden(form.text, "certificate_id"), "amount": "75",
        "purchaser_name": "Pat", "purchaser_email": "pat@example.com", "recipient_name": "Robin",
        "recipient_email": "robin@example.com", "message": "", "segment": "", "payment_reference": "cash-1",
        "locale": "fr-CA",
    }
    made = await browser.post(f"/console/{shop.workspace}/new", data=data, follow_redirects=True)
    assert made.status_code == 200, made.text
    assert "Français (Canada)" in made.text
    detail = await browser.get(f"/v1/workspaces/{shop.workspace}/certificates/{data['certificate_id']}",
                               headers={"Authorization": f"Bearer {shop.admin_key}"})
    assert detail.json()["locale"] == "fr-CA"
