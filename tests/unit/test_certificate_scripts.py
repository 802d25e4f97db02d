"""Certificates for names and messages in ten scripts, as a reader shows them: PDFium's text equals
what was written (in logical order for Arabic and Hebrew), the QR code still scans, and the page
looks as it did when a person checked it (tests/golden/certificate-<script>.png, compared with a
tolerance). `GIFTCERT_UPDATE_GOLDEN=1` writes the pictures anew: look at every one before keeping it."""

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image, ImageChops

from giftcert.domain.money import Amount
from giftcert.rendering.certificate_pdf import CertificateDocument, render_certificate_pdf
from giftcert.rendering.lines import line_width, runs
from tests.pdf_text import lines

GOLDEN = Path(__file__).parent.parent / "golden"
CODE = "ABCDEFGHJKMN"
BASE = CertificateDocument(
    workspace_name="Alpine Tours", amount=Amount(5000, "EUR"), recipient_name="", purchaser_name="Paul Purchaser",
    message=None, code=CODE, expires_at=datetime(2027, 12, 12, 23, 59, tzinfo=UTC),
)
SCRIPTS = {  # name, message, locale
    "latin": ("Zoë Müller-Łukasiewicz", "Joyeux anniversaire, ça va être génial !", "fr"),
    "greek": ("Δήμητρα Παπαδοπούλου", "Χρόνια πολλά! Καλό ταξίδι.", "en"),
    "cyrillic": ("Дарья Иванова", "С днём рождения! Хорошей поездки.", "en"),  # noqa: RUF001 - Cyrillic
    "arabic": ("سارة الأحمد", "عيد ميلاد سعيد! رحلة ممتعة.", "en"),
    "hebrew": ("נועה כהן", "יום הולדת שמח! טיול נעים.", "en"),
    "devanagari": ("प्रिया शर्मा", "जन्मदिन मुबारक हो! आपकी यात्रा शुभ हो।", "en"),
    "thai": ("สมชาย ใจดี", "สุขสันต์วันเกิด ขอให้เดินทางปลอดภัย", "en"),
    "chinese": ("王小明", "生日快乐！祝你旅途愉快。", "en"),  # noqa: RUF001 - full-width, as written
    "japanese": ("山田さくら", "お誕生日おめでとう！楽しい旅を。", "ja"),  # noqa: RUF001 - full-width, as written
    "korean": ("김민준", "생일 축하해요! 즐거운 여행 되세요.", "en"),
}
MIXED = ("Ana שלום 王", "Happy birthday — عيد ميلاد سعيد — 生日快乐 — 생일 축하해요 — 2027!", "de")
DIFFERING = 0.00005
"""The share of pixels (25 of a page's half million) that may differ by more than a shade from the
checked picture: PDFium is pinned (pypdfium2) and so are the fonts, so the page should not change at
all; one glyph shaped otherwise (Hebrew's yod and vav as the ligature U+05F1) changes 72."""


def _document(script: str) -> CertificateDocument:
    name, message, locale = MIXED if script == "mixed" else SCRIPTS[script]
    return replace(BASE, recipient_name=name, message=message, locale=locale)


def _picture(pdf: bytes, scale: float = 1) -> Image.Image:
    return pypdfium2.PdfDocument(pdf)[0].render(scale=scale).to_pil().convert("L")


@pytest.mark.parametrize("script", [*SCRIPTS, "mixed"])
def test_the_names_and_message_read_back_as_written(script: str) -> None:
    document = _document(script)
    shown = [line.text for line in lines(render_certificate_pdf(document))]
    assert any(document.recipient_name in line for line in shown), shown
    if script != "mixed":
        assert document.message in shown
        return
    # PDFium reads an Arabic phrase inside a left-to-right line back word by word in visual order:
    # every word as written, on the one line (the order on the page is checked by the picture)
    (line,) = [line for line in shown if line.startswith("Happy")]
    assert sorted(line.split()) == sorted(document.message.split())


@pytest.mark.parametrize("script", [*SCRIPTS, "mixed"])
def test_the_qr_code_scans_in_every_script(script: str) -> None:
    scanned = zxingcpp.read_barcodes(_picture(render_certificate_pdf(_document(script)), scale=2))
    assert [(found.format, found.text) for found in scanned] == [(zxingcpp.BarcodeFormat.QRCode, CODE)]


@pytest.mark.parametrize("script", [*SCRIPTS, "mixed"])
def test_the_page_looks_as_it_did_when_checked(script: str) -> None:
    picture = _picture(render_certificate_pdf(_document(script)))
    golden = GOLDEN / f"certificate-{script}.png"
    if os.environ.get("GIFTCERT_UPDATE_GOLDEN") == "1":
        picture.save(golden, optimize=True)
    checked = Image.open(golden).convert("L")
    assert checked.size == picture.size
    difference = ImageChops.difference(checked, picture).point(lambda v: 255 if v > 32 else 0)
    differing = difference.histogram()[255] / (picture.width * picture.height)
    assert differing <= DIFFERING, f"{differing:.2%} of the pixels differ from {golden.name}"


def test_a_zero_width_non_joiner_stays_where_it_was_written_and_keeps_persian_letters_apart() -> None:
    # "mi-khaham" (I want): the ZWNJ after ی keeps it from joining خ; the bidi algorithm's rule X9
    # drops it, and without it the shaper would join the two letters in their medial forms
    written = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    joined = written.replace("\u200c", "")
    (run,) = runs(written)
    assert run.logical == written
    assert line_width(written, 12) != line_width(joined, 12)  # final and initial forms, not medial ones
