"""The certificate PDF: one A4 page, rendered deterministically (same document, same bytes).

Customer text is drawn as plain strings, never as Paragraph markup, so `<font>` or `<img>` in a
message prints literally. The QR code is drawn from segno's module matrix, with a fixed mask, as merged
rectangles: much cheaper than reportlab's own QR widget."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import segno
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from giftcert.domain.codes import display_code
from giftcert.domain.money import Amount

INK = HexColor("#1d2b3a")
ACCENT = HexColor("#c0623b")
MUTED = HexColor("#5b6b7b")
PAPER = HexColor("#fbf7f0")
MESSAGE_FONT = "Helvetica-Oblique"
QR_MASK = 0
"""Any of the eight masks makes a valid QR code; choosing the least penalised one (segno's default)
evaluates all eight and costs five times the rest of the page. A 12-character code gives a version 1
symbol, which scanners read whichever mask it has."""


@dataclass(frozen=True, slots=True)
class CertificateDocument:
    workspace_name: str
    amount: Amount
    recipient_name: str
    purchaser_name: str
    message: str | None
    code: str
    expires_at: datetime


def _printable(text: str) -> str:
    """Built-in fonts speak Latin-1; anything else prints as '?' rather than breaking the page."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch if ch.isprintable() and ord(ch) < 256 else "?" for ch in text)  # noqa: PLR2004


def _dark_runs(row: Sequence[int]) -> set[tuple[int, int]]:
    """The row's runs of dark modules, as (first column, column after the last)."""
    runs, start = set(), None
    for column, dark in enumerate((*row, 0)):
        if dark and start is None:
            start = column
        elif not dark and start is not None:
            runs.add((start, column))
            start = None
    return runs


def _module_rectangles(matrix: Sequence[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """The dark modules as few rectangles (top row, first column, width, height): a run of dark
    modules that repeats in the rows below is one taller rectangle."""
    rectangles: list[tuple[int, int, int, int]] = []
    growing: dict[tuple[int, int], int] = {}
    for row_index, row in enumerate((*matrix, ())):
        runs = _dark_runs(row)
        for run in sorted(growing.keys() - runs):
            top = growing.pop(run)
            rectangles.append((top, run[0], run[1] - run[0], row_index - top))
        for run in runs - growing.keys():
            growing[run] = row_index
    return rectangles


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    matrix = segno.make(text, error="m", micro=False, mask=QR_MASK).matrix
    module = size / (len(matrix) + 8)  # a quiet zone of four modules on each side
    canvas.setFillColor(Color(1, 1, 1))
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(INK)
    path = canvas.beginPath()
    for top, left, width, height in _module_rectangles(matrix):
        path.rect(x + (left + 4) * module, y + size - (top + 4 + height) * module, width * module, height * module)
    canvas.drawPath(path, stroke=0, fill=1)


def _size_to_fit(text: str, font: str, size: float, width: float) -> float:
    """The font size, at most `size`, at which `text` fits on one line of `width`."""
    natural = stringWidth(text, font, size)
    return size if natural <= width else max(6.0, size * width / natural)


def _kept_lines(paragraphs: list[str], size: float, width: float) -> list[str]:
    """The message wrapped keeping its line breaks."""
    return [line for p in paragraphs for line in (simpleSplit(p, MESSAGE_FONT, size, width) or [""])]


def _joined_lines(paragraphs: list[str], size: float, width: float) -> list[str]:
    """The message wrapped as one paragraph."""
    return list(simpleSplit(" ".join(p.strip() for p in paragraphs if p.strip()), MESSAGE_FONT, size, width))


def _draw_message(canvas: Canvas, message: str, center: float, *, top: float, bottom: float, width: float) -> None:
    """The whole message between `top` and `bottom`: at the largest size that fits with its line
    breaks, else as one paragraph; a message within the contract's 500 characters always fits."""
    paragraphs = [_printable(p.replace("\t", " ")) for p in message.splitlines()]
    size = 12.0
    while True:
        room = int((top - bottom) / (size * 1.3)) + 1
        if len(lines := _kept_lines(paragraphs, size, width)) <= room:
            break
        if len(lines := _joined_lines(paragraphs, size, width)) <= room or size <= 6.0:  # noqa: PLR2004
            break  # at 6 points: only for text far beyond the contract's limit, drawn possibly over the code
        size -= 0.5
    canvas.setFont(MESSAGE_FONT, size)
    canvas.setFillColor(MUTED)
    for index, line in enumerate(lines):
        canvas.drawCentredString(center, top - index * size * 1.3, line)


def render_certificate_pdf(document: CertificateDocument) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle("Gift certificate")
    canvas.setAuthor(_printable(document.workspace_name))
    width, height = A4
    margin = 48
    canvas.setFillColor(PAPER)
    canvas.rect(0, 0, width, height, stroke=0, fill=1)
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.roundRect(margin, margin, width - 2 * margin, height - 2 * margin, 18, stroke=1, fill=0)
    canvas.setLineWidth(0.8)
    canvas.roundRect(margin + 8, margin + 8, width - 2 * margin - 16, height - 2 * margin - 16, 14)

    center = width / 2
    canvas.setFillColor(MUTED)
    canvas.setFont("Helvetica", 13)
    canvas.drawCentredString(center, height - 120, _printable(document.workspace_name)[:80])
    canvas.setFillColor(INK)
    canvas.setFont("Helvetica-Bold", 34)
    canvas.drawCentredString(center, height - 170, "Gift Certificate")
    canvas.setFillColor(ACCENT)
    canvas.setFont("Helvetica-Bold", 44)
    canvas.drawCentredString(center, height - 240, _printable(document.amount.formatted()))

    canvas.setFillColor(INK)
    text_width = width - 2 * margin - 48
    people = ((f"To  {document.recipient_name}", height - 295), (f"From  {document.purchaser_name}", height - 318))
    for text, y in people:
        line = _printable(text)
        canvas.setFont("Helvetica", _size_to_fit(line, "Helvetica", 15, text_width))
        canvas.drawCentredString(center, y, line)

    qr_size, qr_bottom = 140, 240
    if document.message:
        _draw_message(canvas, document.message, center, top=height - 360, bottom=qr_bottom + qr_size + 14,
                      width=text_width)
    _draw_qr(canvas, document.code, center - qr_size / 2, qr_bottom, qr_size)
    canvas.setFillColor(INK)
    canvas.setFont("Helvetica", 11)
    canvas.drawCentredString(center, 216, "Your redemption code")
    canvas.setFont("Courier-Bold", 30)
    canvas.drawCentredString(center, 184, display_code(document.code))
    canvas.setFont("Helvetica", 12)
    canvas.setFillColor(MUTED)
    canvas.drawCentredString(center, 146, f"Valid until {document.expires_at:%d %B %Y}")
    canvas.setFont("Helvetica", 9)
    canvas.drawCentredString(
        center, 100, "Enter the code at checkout when you book. It is used in full on one booking."
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
