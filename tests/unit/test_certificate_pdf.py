"""The certificate PDF, read back with pypdf: what the page says, where, and in which size."""

import io
import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pypdfium2
import pytest
import segno
import zxingcpp
from pypdf import PdfReader
from pypdf.generic import ContentStream

from giftcert.domain.codes import ALPHABET, LENGTH
from giftcert.domain.money import Amount
from giftcert.rendering.certificate_pdf import QR_MASK, CertificateDocument, render_certificate_pdf

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


@dataclass(frozen=True)
class Text:
    text: str
    x: float
    y: float
    size: float
    font: str


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Page:
    texts: list[Text]
    rects: list[Rect]

    @property
    def strings(self) -> list[str]:
        return [t.text for t in self.texts]

    def line_with(self, fragment: str) -> Text:
        (found,) = [t for t in self.texts if fragment in t.text]
        return found


def _pages(pdf: bytes) -> list[Page]:
    """Every string the page draws (with the position and size it is drawn at) and every rectangle."""
    reader = PdfReader(io.BytesIO(pdf))
    pages = []
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        texts, rects = [], []
        font, size, x, y = "", 0.0, 0.0, 0.0
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                font, size = str(fonts[operands[0]]["/BaseFont"]).lstrip("/"), float(operands[1])
            elif operator == b"Tm":
                x, y = float(operands[4]), float(operands[5])
            elif operator == b"Tj":
                texts.append(Text(str(operands[0]), x, y, size, font))
            elif operator == b"re":
                rects.append(Rect(*(float(v) for v in operands)))
        pages.append(Page(texts, rects))
    return pages


def _page(document: CertificateDocument = DOCUMENT) -> Page:
    (page,) = _pages(render_certificate_pdf(document))
    return page


def _qr_box(page: Page) -> Rect:
    """The white square the QR code is drawn on: the one square that holds many small rectangles."""
    (box,) = [
        r for r in page.rects
        if abs(r.width - r.height) < 1e-6 and len(_inside(page, r)) > 20
    ]
    return box


def _inside(page: Page, box: Rect) -> list[Rect]:
    return [
        r for r in page.rects
        if r is not box and r.height < box.height / 2
        and box.x <= r.x and r.x + r.width <= box.x + box.width + 1e-6
        and box.y <= r.y and r.y + r.height <= box.y + box.height + 1e-6
    ]


def _qr_matrix(page: Page) -> list[list[bool]]:
    """The QR code's modules read back from the rectangles inside its box (a 4-module quiet zone)."""
    box = _qr_box(page)
    modules = _inside(page, box)
    module = min(r.height for r in modules)
    size = round(box.width / module) - 8
    matrix = [[False] * size for _ in range(size)]
    for r in modules:
        bottom = round((box.y + box.height - r.y) / module) - 4  # the row below the rectangle
        start = round((r.x - box.x) / module) - 4
        for row in range(bottom - round(r.height / module), bottom):
            for col in range(start, start + round(r.width / module)):
                assert not matrix[row][col], "rectangles overlap"
                matrix[row][col] = True
    return matrix


def test_the_certificate_is_one_page() -> None:
    assert len(PdfReader(io.BytesIO(render_certificate_pdf(DOCUMENT))).pages) == 1


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(Amount(123450, "EUR"), "EUR 1,234.50"), (Amount(5000, "JPY"), "JPY 5,000"),
     (Amount(12345, "KWD"), "KWD 12.345"), (Amount(7, "USD"), "USD 0.07")],
)
def test_the_page_shows_the_amount_with_its_currency(amount: Amount, shown: str) -> None:
    page = _page(replace(DOCUMENT, amount=amount))
    assert shown in page.strings
    assert page.line_with(shown).size == max(t.size for t in page.texts)  # the largest text on the page


def test_the_page_shows_the_recipient_and_the_purchaser_by_name() -> None:
    page = _page()
    assert any(re.fullmatch(r"To\s+Rita Recipient", s) for s in page.strings)
    assert any(re.fullmatch(r"From\s+Paul Purchaser", s) for s in page.strings)


def test_the_page_shows_the_personal_message_line_by_line() -> None:
    lines = [t.text for t in _page().texts if t.font == "Helvetica-Oblique"]
    assert lines == ["Happy birthday, Rita!", "Enjoy the mountains."]


def test_a_certificate_without_a_message_prints_none() -> None:
    with_message, without = _page(), _page(replace(DOCUMENT, message=None))
    assert len(without.texts) == len(with_message.texts) - 2
    assert "None" not in " ".join(without.strings)


def test_the_page_shows_the_code_in_three_groups_of_four() -> None:
    strings = _page().strings
    assert "ABCD-EFGH-JKMN" in strings
    assert [s for s in strings if re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", s)] == ["ABCD-EFGH-JKMN"]


def test_the_page_shows_the_expiry_date() -> None:
    assert any("05 March 2027" in s for s in _page().strings)


def test_the_page_shows_the_workspace_name() -> None:
    assert "Alpine Tours" in _page().strings


def test_latin_1_accents_print_as_themselves() -> None:
    page = _page(replace(DOCUMENT, recipient_name="Zoë Müller", workspace_name="Côte d'Azur Séjours"))
    assert any(s.endswith("Zoë Müller") for s in page.strings)
    assert "Côte d'Azur Séjours" in page.strings


def test_text_outside_latin_1_does_not_break_the_page() -> None:
    page = _page(replace(DOCUMENT, recipient_name="Δήμητρα 王 🎁", message="Merci 🎉 beaucoup"))
    assert any(s.startswith("To") for s in page.strings)
    assert any(s.startswith("Merci") and s.endswith("beaucoup") for s in page.strings)


MARKUP = ["<font size=40>BIG</font>", '<img src="/etc/passwd"/>', "&amp;", "<b>bold</b>", "<para>"]


@pytest.mark.parametrize("markup", MARKUP)
def test_reportlab_markup_in_customer_text_prints_literally(markup: str) -> None:
    document = replace(
        DOCUMENT,
        workspace_name=f"Tours {markup}",
        recipient_name=f"Rita {markup}",
        purchaser_name=f"Paul {markup}",
        message=f"Hello {markup} there",
    )
    page = _page(document)
    plain = _page(
        replace(DOCUMENT, workspace_name="Tours", recipient_name="Rita", purchaser_name="Paul", message="Hello there")
    )
    assert f"Tours {markup}" in page.strings
    assert f"Hello {markup} there" in page.strings
    assert page.line_with(f"Rita {markup}").text.endswith(f"Rita {markup}")
    assert page.line_with(f"Paul {markup}").text.endswith(f"Paul {markup}")
    for fragment in ("Tours", "Rita", "Paul", "Hello"):  # each in the font and size it has without markup
        drawn, expected = page.line_with(fragment), plain.line_with(fragment)
        assert (drawn.font, drawn.size, drawn.y) == (expected.font, expected.size, expected.y)


def test_markup_in_customer_text_embeds_no_image() -> None:
    pdf = render_certificate_pdf(replace(DOCUMENT, message='<img src="/etc/passwd"/>', recipient_name="<img src=x>"))
    reader = PdfReader(io.BytesIO(pdf))
    resources = reader.pages[0]["/Resources"]
    assert "/XObject" not in resources
    assert b"root:" not in pdf


def test_rendering_the_same_certificate_twice_gives_the_same_bytes() -> None:
    first, second = render_certificate_pdf(DOCUMENT), render_certificate_pdf(DOCUMENT)
    assert first == second
    assert render_certificate_pdf(replace(DOCUMENT, code="ABCDEFGHJKMP")) != first


def test_the_pdf_carries_no_time_of_rendering() -> None:
    pdf = render_certificate_pdf(DOCUMENT)
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    this_year = str(datetime.now(UTC).year)
    assert not str(metadata.get("/CreationDate", "")).startswith(f"D:{this_year}")
    assert not str(metadata.get("/ModDate", "")).startswith(f"D:{this_year}")


def test_the_page_has_a_qr_code_of_the_redemption_code() -> None:
    matrix = _qr_matrix(_page())
    candidates = [
        [[bool(v) for v in row] for row in segno.make(CODE, error=error, micro=False, mask=mask).matrix]
        for error in "lmqh"
        for mask in range(8)
    ]
    assert matrix in candidates
    other = [[bool(v) for v in row] for row in segno.make("ABCDEFGHJKMP", error="m", micro=False, mask=QR_MASK).matrix]
    assert matrix != other


SCANNED_CODES = [CODE, "23456789ZZZZ", *("".join(random.Random(seed).choices(ALPHABET, k=LENGTH)) for seed in range(3))]


@pytest.mark.parametrize("code", SCANNED_CODES)
def test_the_page_as_a_reader_shows_it_scans_as_the_redemption_code(code: str) -> None:
    """Drawn by PDFium (Chrome's renderer) at 144 dpi and read back by a QR scanner (zxing-cpp)."""
    page = pypdfium2.PdfDocument(render_certificate_pdf(replace(DOCUMENT, code=code)))[0]
    scanned = zxingcpp.read_barcodes(page.render(scale=2).to_pil())
    assert [(found.format, found.text) for found in scanned] == [(zxingcpp.BarcodeFormat.QRCode, code)]


def test_the_qr_code_sits_on_a_white_square_with_a_quiet_zone() -> None:
    page = _page()
    box = _qr_box(page)
    modules = _inside(page, box)
    module = modules[0].height
    assert min(r.x for r in modules) - box.x == pytest.approx(4 * module, abs=1e-3)
    assert box.y + box.height - max(r.y + r.height for r in modules) == pytest.approx(4 * module, abs=1e-3)
    code_line = page.line_with("ABCD-EFGH-JKMN")
    assert code_line.y < box.y  # the printed code is below the QR code, not under it


LONG_MESSAGES = [
    pytest.param(" ".join(["Wishing you a wonderful trip through the Alps"] * 11)[:500], id="one-paragraph"),
    pytest.param("\n".join(f"Line {n:02d}: have fun" for n in range(1, 26))[:500], id="many-short-lines"),
]


def _message_lines(page: Page) -> list[Text]:
    return [t for t in page.texts if t.font == "Helvetica-Oblique"]


@pytest.mark.parametrize("message", LONG_MESSAGES)
def test_a_message_within_the_500_character_limit_is_printed_whole(message: str) -> None:
    assert len(message) <= 500
    printed = " ".join(t.text for t in _message_lines(_page(replace(DOCUMENT, message=message))))
    assert printed.split() == message.split(), "the message is not printed whole"


@pytest.mark.parametrize("message", LONG_MESSAGES)
def test_a_message_within_the_500_character_limit_stays_clear_of_the_qr_code(message: str) -> None:
    page = _page(replace(DOCUMENT, message=message))
    box = _qr_box(page)
    covered = [t.text for t in _message_lines(page) if t.y < box.y + box.height + 2]
    assert not covered, f"message lines drawn where the QR code's white square covers them: {covered}"
