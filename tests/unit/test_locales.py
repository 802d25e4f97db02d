"""The catalogs: every message of the source translated in every supported language, with the same
placeholders, each language's glossary term for the gift certificate used wherever English says it;
and Babel's formats of money and dates per locale."""

import re
import string
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import giftcert_services.web
from giftcert.delivery.certificate_document import certificate_document
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.locales import CATALOGS, DEFAULT_LOCALE, DOMAIN, SUPPORTED, language

LIBRARY = Path(CATALOGS).parent
WEB = Path(giftcert_services.web.__file__).parent
IN_CONTEXT = ((1, "c"), 2)
KEYWORDS: dict[str, Any] = {
    "gettext": None, "gettext_noop": None, "_": None, "pgettext": IN_CONTEXT, "pgettext_noop": IN_CONTEXT,
    "ngettext": (1, 2),
}
WEB_METHODS = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
TRANSLATED = [tag for tag in SUPPORTED if tag != DEFAULT_LOCALE]
# docs/glossary.md: each English term (wherever a message says it) and its words, plural included
GLOSSARY: dict[str, dict[str, tuple[str, ...]]] = {
    "certificate": {"de": ("Gutschein",), "fr": ("bon cadeau", "bons cadeaux"), "es": ("vale regalo", "vales regalo"),
                    "it": ("buono regalo", "buoni regalo"), "ja": ("ギフト券",)},
    "amount": {"de": ("Betrag", "Beträge"), "fr": ("montant",), "es": ("importe",), "it": ("importo", "importi"),
               "ja": ("金額",)},
    "recipient": {"de": ("Empfänger",), "fr": ("destinataire",), "es": ("destinatario",), "it": ("destinatario",),
                  "ja": ("受取人",)},
    "purchaser": {"de": ("Käufer",), "fr": ("acheteur",), "es": ("comprador",), "it": ("acquirente",),
                  "ja": ("購入者",)},
    "booking": {"de": ("Buchung",), "fr": ("réservation",), "es": ("reserva",), "it": ("prenotazione",),
                "ja": ("予約",)},
    "balance": {"de": ("Guthaben",), "fr": ("solde",), "es": ("saldo",), "it": ("saldo",), "ja": ("残高",)},
}


Message = tuple[str | None, str]
"""A message's context (None for most) and its English text (the plural form of one that counts)."""


def _source_messages() -> set[Message]:
    """The messages of the library (emails, PDFs) and of the web pages (their Python and templates)."""
    found = [
        *extract_from_dir(str(LIBRARY), keywords=KEYWORDS),
        *extract_from_dir(str(WEB), WEB_METHODS, keywords=KEYWORDS),
    ]
    return {(context, text if isinstance(text, str) else text[-1]) for _, _, text, _, context in found}


def test_the_web_pages_messages_are_among_the_source_messages() -> None:
    messages = _source_messages()
    for message in ("Give a gift certificate", "Continue to payment", "Sign in to {workspace}", "Void",
                    "This form was sent from another site.", "Active: sent to {email}"):
        assert (None, message) in messages
    assert ("certificate status", "Voided") in messages
    assert ("date", "Created") in messages


def _catalog(tag: str) -> dict[Message, tuple[str, ...]]:
    """Each message's translations: one, or one per plural form of the language."""
    with (CATALOGS / tag / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        catalog = read_po(file)
    return {
        (m.context, m.id if isinstance(m.id, str) else m.id[-1]): (m.string,) if isinstance(m.string, str) else m.string
        for m in catalog if m.id and not m.fuzzy
    }


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("tag", TRANSLATED)
def test_every_message_of_the_source_is_translated(tag: str) -> None:
    catalog = _catalog(tag)
    untranslated = sorted(m for m in _source_messages() if not all(catalog.get(m, ("",))))
    assert not untranslated, f"{tag}: untranslated messages {untranslated}"


@pytest.mark.parametrize("tag", TRANSLATED)
def test_a_translation_keeps_the_placeholders_of_its_message(tag: str) -> None:
    for (_, message), forms in _catalog(tag).items():
        for translation in forms:
            assert _placeholders(translation) == _placeholders(message), (tag, message, translation)


@pytest.mark.parametrize("tag", TRANSLATED)
@pytest.mark.parametrize("term", list(GLOSSARY))
def test_the_glossarys_word_is_used_wherever_english_says_its_term(tag: str, term: str) -> None:
    for (_, message), forms in _catalog(tag).items():
        english = re.sub(r"\{\w+\}", "", message)  # `{amount}` is a value, not the word
        if re.search(rf"\b{term}", english, re.IGNORECASE) and not message.endswith(".pdf"):
            for translation in forms:
                said = translation.lower()
                assert any(word.lower() in said for word in GLOSSARY[term][tag]), (tag, message, translation)


@pytest.mark.parametrize(
    ("tag", "amount", "shown"),
    [("de", Amount(5000, "EUR"), "50,00\xa0€"), ("ja", Amount(5000, "JPY"), "￥5,000"),
     ("en", Amount(5000, "JPY"), "¥5,000"), ("fr", Amount(123456, "EUR"), "1\u202f234,56\xa0€"),
     ("de-CH", Amount(5000, "CHF"), "CHF\xa050.00"), ("en", Amount(12345, "KWD"), "KWD12.345")],
)
def test_money_is_written_as_the_locale_writes_it(tag: str, amount: Amount, shown: str) -> None:
    assert language(tag).money(amount) == shown


@pytest.mark.parametrize(
    ("tag", "shown"),
    [("de", "12. Dezember 2027"), ("en", "December 12, 2027"), ("ja", "2027年12月12日"), ("fr", "12 décembre 2027")],
)
def test_dates_are_written_as_the_locale_writes_them(tag: str, shown: str) -> None:
    assert language(tag).date(datetime(2027, 12, 12, 10, tzinfo=UTC)) == shown


@pytest.mark.parametrize(
    ("tag", "one", "two", "zero"),
    [("en", "1 refund", "2 refunds", "0 refunds"), ("de", "1 Erstattung", "2 Erstattungen", "0 Erstattungen"),
     ("fr", "1 remboursement", "2 remboursements", "0 remboursement"), ("ja", "返金1件", "返金2件", "返金0件")],
)
def test_a_count_takes_its_languages_plural_form(tag: str, one: str, two: str, zero: str) -> None:
    words = language(tag)

    def refunds(count: int) -> str:
        return words.ngettext("{amount} in {count} refund", "{amount} in {count} refunds", count).format(
            amount="", count=count
        )

    assert (one in refunds(1), two in refunds(2), zero in refunds(0)) == (True, True, True), (
        refunds(1), refunds(2), refunds(0)
    )


def test_an_unknown_locale_reads_english() -> None:
    assert language("xx-YY").gettext("Gift Certificate") == "Gift Certificate"
    assert language("de-AT").gettext("Gift Certificate") == "Gutschein"


def test_a_certificate_reads_in_the_locale_its_purchase_named_else_in_its_workspaces() -> None:
    certificate = Certificate(
        id=uuid4(), workspace_id="ws", status=Status.ACTIVE, amount=Amount(5000, "EUR"), code="ABCDEFGHJKMN",
        channel="portal", segment=None, purchaser_name="P", purchaser_email="p@example.com", recipient_name="R",
        recipient_email="r@example.com", message=None, expiry_days=365, created_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    workspace = WorkspaceSettings(workspace_id="ws", name="Tours", locale="fr")
    assert certificate_document(certificate, workspace).locale == "fr"
    assert certificate_document(replace(certificate, locale="ja"), workspace).locale == "ja"
    assert certificate_document(certificate, WorkspaceSettings.defaults("ws")).locale == "en"
