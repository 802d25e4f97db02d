"""The certificate and reminder emails of each supported language, parsed as a mail client parses
them: subject, a plain and an HTML part with the same content, the attachment's name, and money and
dates as Babel writes them for the locale."""

from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser
from uuid import UUID

import pytest

from giftcert.domain.money import Amount
from giftcert.locales import SUPPORTED
from giftcert.mail.compose import compose_certificate_email, compose_remaining_balance_email, compose_reminder_email
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.rendering.certificate_pdf import CertificateDocument

DOCUMENT = CertificateDocument(
    workspace_name="Alpine Tours", amount=Amount(123450, "EUR"), recipient_name="Rita <b>Recipient</b>",
    purchaser_name="Paul & Co", message="Happy birthday!\n<script>alert(1)</script>", code="ABCDEFGHJKMN",
    expires_at=datetime(2027, 12, 12, 23, 59, tzinfo=UTC),
)
EXPECTED = {  # subject, money, date, attachment
    "en": ("Your gift certificate from Alpine Tours", "€1,234.50", "December 12, 2027", "gift-certificate-JKMN.pdf"),
    "de": ("Ihr Gutschein von Alpine Tours", "1.234,50\xa0€", "12. Dezember 2027", "gutschein-JKMN.pdf"),
    "fr": ("Votre bon cadeau de Alpine Tours", "1\u202f234,50\xa0€", "12 décembre 2027", "bon-cadeau-JKMN.pdf"),
    "es": ("Tu vale regalo de Alpine Tours", "1.234,50\xa0€", "12 de diciembre de 2027", "vale-regalo-JKMN.pdf"),
    "it": ("Il tuo buono regalo da Alpine Tours", "1.234,50\xa0€", "12 dicembre 2027", "buono-regalo-JKMN.pdf"),
    "ja": ("Alpine Toursのギフト券が届きました", "€1,234.50", "2027年12月12日", "giftken-JKMN.pdf"),
}


class _Text(HTMLParser):
    """An HTML part's text, and whether it asks for anything from elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.elements: list[str] = []
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(tag)
        self.remote += [value for name, value in attrs if name in {"src", "href"} and value]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _received(email: OutgoingEmail) -> EmailMessage:
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _parts(received: EmailMessage) -> tuple[str, _Text]:
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert plain is not None
    assert html is not None
    parser = _Text()
    parser.feed(str(html.get_content()))
    return str(plain.get_content()), parser


def _email(locale: str) -> EmailMessage:
    return _received(compose_certificate_email(
        replace(DOCUMENT, locale=locale),
        mail_from="Alpine Tours <gifts@alpine-tours.example>", to_email="rita@example.com", pdf=b"%PDF-1.4\n%%EOF\n",
        certificate_id=UUID(int=1), sent_at=datetime(2026, 12, 6, tzinfo=UTC),
    ))


def test_every_supported_language_has_its_expectations() -> None:
    assert set(EXPECTED) == set(SUPPORTED)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_certificate_email_reads_in_its_language_in_both_parts(locale: str) -> None:
    subject, money, date, attachment_name = EXPECTED[locale]
    received = _email(locale)
    assert received["Subject"] == subject
    plain, html = _parts(received)
    for shown in (money, date, "ABCD-EFGH-JKMN", "Rita <b>Recipient</b>", "Paul & Co", "<script>alert(1)</script>"):
        assert shown in plain
        assert shown in "".join(html.text)  # the same content, customer text as text
    assert "script" not in html.elements
    assert "b" not in html.elements
    assert html.remote == []
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_filename() == attachment_name
    assert attachment.get_content_type() == "application/pdf"


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_reminder_reads_in_its_language_in_both_parts(locale: str) -> None:
    _, money, date, _ = EXPECTED[locale]
    received = _received(compose_reminder_email(
        replace(DOCUMENT, locale=locale), mail_from="gifts@alpine-tours.example", to_email="rita@example.com",
        certificate_id=UUID(int=1), sent_at=datetime(2026, 12, 6, tzinfo=UTC),
    ))
    assert date in received["Subject"]
    plain, html = _parts(received)
    for shown in (money, date, "ABCD-EFGH-JKMN"):
        assert shown in plain
        assert shown in "".join(html.text)
    assert not list(received.iter_attachments())


def test_the_html_part_of_a_right_to_left_locale_is_written_right_to_left() -> None:
    html = _email("he").get_body(("html",))
    assert html is not None
    assert 'dir="rtl"' in str(html.get_content())


REMAINING = {  # subject, what is left
    "en": ("Your remaining balance with Alpine Tours", "Remaining balance: €35.00"),
    "de": ("Ihr Restguthaben bei Alpine Tours", "Restguthaben: 35,00\xa0€"),
    "fr": ("Votre solde restant chez Alpine Tours", "Solde restant : 35,00\xa0€"),
    "es": ("Tu saldo restante con Alpine Tours", "Saldo restante: 35,00\xa0€"),
    "it": ("Il tuo saldo residuo con Alpine Tours", "Saldo residuo: 35,00\xa0€"),
    "ja": ("Alpine Toursでご利用いただける残高のお知らせ", "残高\uff1a€35.00"),  # a full-width colon
}


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_remaining_balance_email_reads_in_its_language_with_the_last_four_only(locale: str) -> None:
    subject, left = REMAINING[locale]
    received = _received(compose_remaining_balance_email(
        replace(DOCUMENT, locale=locale), mail_from="gifts@alpine-tours.example", to_email="rita@example.com",
        applied=Amount(1500, "EUR"), balance=Amount(3500, "EUR"), redemption_id=UUID(int=2),
        sent_at=datetime(2026, 12, 6, tzinfo=UTC),
    ))
    assert received["Subject"] == subject
    plain, html = _parts(received)
    for shown in (left, EXPECTED[locale][2], "JKMN"):
        assert shown in plain
        assert shown in "".join(html.text)
    assert "ABCD" not in plain + "".join(html.text)
    assert not list(received.iter_attachments())
