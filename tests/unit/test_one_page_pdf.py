"""The one-page PDF writer, read back by two other programs: qpdf (through pikepdf) checks the file's
syntax and cross-references, pypdf reads what the page says."""

import io
import re
import zlib

import pikepdf
import pytest
from pypdf import PdfReader
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth

from giftcert.rendering.one_page_pdf import PageDrawing

HOSTILE_TEXT = "a (b) c) \\ d \\) é ü ß"


def _drawn(*texts: str, author: str = "Alpine Tours") -> bytes:
    page = PageDrawing(*A4)
    page.fill_colour(HexColor("#1d2b3a"))
    page.filled_rectangle(10, 10, 50, 20)
    for index, text in enumerate(texts):
        page.centred_text(text, font=("Helvetica", "Courier-Bold")[index % 2], size=12, x=300, y=700 - 20 * index)
    return page.pdf(title="Gift certificate", author=author)


@pytest.mark.parametrize("texts", [(), ("one line",), (HOSTILE_TEXT, "Zoë", "x" * 300)])
def test_the_file_passes_qpdfs_syntax_check(texts: tuple[str, ...]) -> None:
    with pikepdf.open(io.BytesIO(_drawn(*texts))) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert len(pdf.pages) == 1


def test_every_cross_reference_points_at_its_object_and_startxref_at_the_table() -> None:
    pdf = _drawn(HOSTILE_TEXT, "second line")
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf).group(1))
    assert pdf[start:].startswith(b"xref\n0 ")
    offsets = [int(m.group(1)) for m in re.finditer(rb"^(\d{10}) 00000 n $", pdf[start:], re.MULTILINE)]
    assert len(offsets) == 7  # catalog, pages, page, contents, info, two fonts
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(b"%d 0 obj\n" % number)


def test_a_damaged_cross_reference_is_what_qpdf_reports() -> None:
    """The check above is not vacuous: qpdf does report a table that points at the wrong place."""
    pdf = _drawn("one line")
    damaged = re.sub(rb"^0000000015 00000 n $", b"0000000016 00000 n ", pdf, flags=re.MULTILINE)
    assert damaged != pdf
    with pikepdf.open(io.BytesIO(damaged)) as reopened:
        assert reopened.check_pdf_syntax() != []


def test_text_reads_back_as_drawn_whatever_parentheses_and_backslashes_it_holds() -> None:
    reader = PdfReader(io.BytesIO(_drawn(HOSTILE_TEXT, "plain")), strict=True)
    assert reader.pages[0].extract_text().splitlines() == [HOSTILE_TEXT, "plain"]


def test_text_outside_latin_1_and_control_characters_print_as_a_question_mark() -> None:
    """Nothing but printable Latin-1 reaches the page: a C1 control would show as a WinAnsi sign (€)."""
    pdf = _drawn("Δ 王 ok \x80\x07x")
    assert PdfReader(io.BytesIO(pdf), strict=True).pages[0].extract_text() == "? ? ok ??x"
    assert b"\\200" not in zlib.decompress(re.search(rb"stream\n(.*)\nendstream", pdf, re.DOTALL).group(1))


def test_text_is_centred_on_x_by_the_width_of_the_font() -> None:
    page = PageDrawing(*A4)
    page.centred_text("Gift Certificate", font="Helvetica-Bold", size=34, x=300, y=700)
    content = PdfReader(io.BytesIO(page.pdf(title="t", author="a"))).pages[0].get_contents()
    assert content is not None
    left = float(re.search(rb"1 0 0 1 ([\d.]+) 700 Tm", content.get_data()).group(1))
    assert left + stringWidth("Gift Certificate", "Helvetica-Bold", 34) / 2 == pytest.approx(300, abs=1e-3)


def test_each_font_is_named_once_as_a_standard_font() -> None:
    reader = PdfReader(io.BytesIO(_drawn("a", "b", "c")), strict=True)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert sorted(str(font["/BaseFont"]) for font in fonts.values()) == ["/Courier-Bold", "/Helvetica"]
    assert {str(font["/Encoding"]) for font in fonts.values()} == {"/WinAnsiEncoding"}


def test_a_font_that_is_not_a_standard_text_font_is_refused() -> None:
    page = PageDrawing(*A4)
    for font in ("Symbol", "ZapfDingbats", "Comic Sans"):
        with pytest.raises(ValueError, match="not one of the standard text fonts"):
            page.centred_text("x", font=font, size=12, x=0, y=0)


@pytest.mark.parametrize("author", ["Alpine Tours", "Côte d'Azur (Séjours) \\", "Δήμητρα 王 🎁"])
def test_the_title_and_author_read_back_in_any_script(author: str) -> None:
    metadata = PdfReader(io.BytesIO(_drawn("x", author=author)), strict=True).metadata
    assert metadata is not None
    assert (metadata.title, metadata.author) == ("Gift certificate", author)


def test_the_same_drawing_gives_the_same_bytes() -> None:
    assert _drawn(HOSTILE_TEXT) == _drawn(HOSTILE_TEXT)
    assert _drawn(HOSTILE_TEXT) != _drawn(HOSTILE_TEXT + "!")
