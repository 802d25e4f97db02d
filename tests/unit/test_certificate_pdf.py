"""The certificate PDF as a reader shows it: PDFium's text of each line (tests/pdf_text.py), the page
rendered to pixels, and its QR code scanned by zxing-cpp."""

import io
import random
from dataclasses import replace
from datetime import UTC, datetime

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from giftcert.domain.codes import ALPHABET, LENGTH
from giftcert.domain.money import Amount
from giftcert.rendering.certificate_pdf import CertificateDocument, render_certificate_pdf
from tests.pdf_text import Line, lines

CODE = "ABCDEFGHJKMN"
DOCUMENT = CertificateDocument(
    workspace_name="Alpine Tours",
    amount=Amount(123450, "EUR"),
    recipient_name="Rita Recipient",
    purchaser_name="Paul Purchaser",
    message="Happy birthday, Rita!\nEnjoy the mountains.",
    code=CODE,
    expires_at=datetime(2027, 3, 5, 23, 59, tzinfo=UTC),
)
QR_TOP = 380.0  # the QR code's white square ends here; the message stays above it
MESSAGE_TOP = 842 - 359


def _lines(document: CertificateDocument = DOCUMENT) -> list[Line]:
    return lines(render_certificate_pdf(document))


def _texts(document: CertificateDocument = DOCUMENT) -> list[str]:
    return [line.text for line in _lines(document)]


def _message(found: list[Line]) -> list[Line]:
    return [line for line in found if line.y < MESSAGE_TOP and line.size <= 12 and line.y > 230]


def test_the_certificate_is_one_page() -> None:
    assert len(PdfReader(io.BytesIO(render_certificate_pdf(DOCUMENT))).pages) == 1


@pytest.mark.parametrize(
    ("amount", "locale", "shown"),
    [(Amount(123450, "EUR"), "en", "€1,234.50"), (Amount(5000, "JPY"), "ja", "￥5,000"),
     (Amount(5000, "EUR"), "de", "50,00 €"), (Amount(7, "USD"), "en", "$0.07")],
)
def test_the_page_shows_the_amount_as_the_locale_writes_it(amount: Amount, locale: str, shown: str) -> None:
    found = _lines(replace(DOCUMENT, amount=amount, locale=locale))
    (line,) = [line for line in found if line.text.replace("\xa0", " ") == shown]
    assert line.size == max(x.size for x in found)  # the largest text on the page


def test_the_page_shows_the_recipient_and_the_purchaser_by_name() -> None:
    texts = _texts()
    assert "To Rita Recipient" in texts
    assert "From Paul Purchaser" in texts


def test_the_page_shows_the_personal_message_line_by_line() -> None:
    assert [line.text for line in _message(_lines())] == ["Happy birthday, Rita!", "Enjoy the mountains."]


def test_a_certificate_without_a_message_prints_none() -> None:
    with_message, without = _texts(), _texts(replace(DOCUMENT, message=None))
    assert len(without) == len(with_message) - 2
    assert "None" not in " ".join(without)


def test_the_page_shows_the_code_in_three_groups_of_four() -> None:
    assert [t for t in _texts() if "-" in t and t.replace("-", "").isalnum()] == ["ABCD-EFGH-JKMN"]


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("en", "Valid until March 5, 2027"), ("de", "Gültig bis 5. März 2027"), ("ja", "有効期限 2027年3月5日")],
)
def test_the_page_shows_the_expiry_date_as_the_locale_writes_it(locale: str, shown: str) -> None:
    assert shown in _texts(replace(DOCUMENT, locale=locale))


def test_the_page_shows_the_workspace_name() -> None:
    assert "Alpine Tours" in _texts()


MARKUP = ["<font size=40>BIG</font>", '<img src="/etc/passwd"/>', "&amp;", "<b>bold</b>", "<para>"]


@pytest.mark.parametrize("markup", MARKUP)
def test_reportlab_markup_in_customer_text_prints_literally(markup: str) -> None:
    document = replace(DOCUMENT, workspace_name=f"Tours {markup}", recipient_name=f"Rita {markup}",
                       purchaser_name=f"Paul {markup}", message=f"Hello {markup} there")
    texts = _texts(document)
    for expected in (f"Tours {markup}", f"To Rita {markup}", f"From Paul {markup}", f"Hello {markup} there"):
        assert expected in texts


def test_markup_in_customer_text_embeds_no_image() -> None:
    pdf = render_certificate_pdf(replace(DOCUMENT, message='<img src="/etc/passwd"/>', recipient_name="<img src=x>"))
    assert b"/Image" not in pdf.replace(b"/ImageB", b"").replace(b"/ImageC", b"").replace(b"/ImageI", b"")
    assert b"root:" not in pdf


def test_rendering_the_same_certificate_twice_gives_the_same_bytes() -> None:
    first, second = render_certificate_pdf(DOCUMENT), render_certificate_pdf(DOCUMENT)
    assert first == second
    assert render_certificate_pdf(replace(DOCUMENT, code="ABCDEFGHJKMP")) != first


def test_the_pdf_carries_no_time_of_rendering() -> None:
    metadata = PdfReader(io.BytesIO(render_certificate_pdf(DOCUMENT))).metadata
    assert metadata is not None
    this_year = str(datetime.now(UTC).year)
    assert not str(metadata.get("/CreationDate", "")).startswith(f"D:{this_year}")
    assert not str(metadata.get("/ModDate", "")).startswith(f"D:{this_year}")


SCANNED_CODES = [CODE, "23456789ZZZZ", *("".join(random.Random(seed).choices(ALPHABET, k=LENGTH)) for seed in range(3))]


@pytest.mark.parametrize("code", SCANNED_CODES)
def test_the_page_as_a_reader_shows_it_scans_as_the_redemption_code(code: str) -> None:
    """Drawn by PDFium (Chrome's renderer) at 144 dpi and read back by a QR scanner (zxing-cpp)."""
    page = pypdfium2.PdfDocument(render_certificate_pdf(replace(DOCUMENT, code=code)))[0]
    scanned = zxingcpp.read_barcodes(page.render(scale=2).to_pil())
    assert [(found.format, found.text) for found in scanned] == [(zxingcpp.BarcodeFormat.QRCode, code)]


LONG_MESSAGES = [
    pytest.param(" ".join(["Wishing you a wonderful trip through the Alps"] * 11)[:500], id="one-paragraph"),
    pytest.param("\n".join(f"Line {n:02d}: have fun" for n in range(1, 26))[:500], id="many-short-lines"),
    pytest.param("素晴らしい旅をお楽しみください。" * 31, id="japanese-without-spaces"),
]


@pytest.mark.parametrize("message", LONG_MESSAGES)
def test_a_message_within_the_500_character_limit_is_printed_whole_clear_of_the_qr_code(message: str) -> None:
    assert len(message) <= 500
    printed = _message(_lines(replace(DOCUMENT, message=message)))
    assert "".join("".join(line.text.split()) for line in printed) == "".join(message.split())
    assert all(line.y > QR_TOP for line in printed)
