"""The certificate PDF: one A4 page, rendered deterministically (same document, same bytes).

Customer text is drawn as plain strings, never as Paragraph markup, so `<font>` or `<img>` in a
message prints literally. The QR code is drawn from segno's module matrix as merged rectangles:
much cheaper than reportlab's own QR widget."""

import io
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
    return "".join(ch if ch.isprintable() and ord(ch) < 256 else "?" for ch in text)  # noqa: PLR2004


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    matrix = segno.make(text, error="m", micro=False).matrix
    count = len(matrix) + 8  # a quiet zone of four modules on each side
    module = size / count
    canvas.setFillColor(Color(1, 1, 1))
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(INK)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 4 + 1) * module
        start = None
        for col_index, dark in enumerate((*row, 0)):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                path.rect(x + (start + 4) * module, top, (col_index - start) * module, module)
                start = None
    canvas.drawPath(path, stroke=0, fill=1)


def _size_to_fit(text: str, font: str, size: float, width: float) -> float:
    """The font size, at most `size`, at which `text` fits on one line of `width`."""
    natural = stringWidth(text, font, size)
    return size if natural <= width else max(6.0, size * width / natural)


def _message_lines(message: str, size: float, width: float) -> tuple[list[str], list[str]]:
    """The message wrapped keeping its line breaks, and wrapped as one paragraph."""
    paragraphs = [_printable(p.replace("\t", " ")) for p in message.splitlines()]
    kept = [line for p in paragraphs for line in (simpleSplit(p, MESSAGE_FONT, size, width) or [""])]
    joined = simpleSplit(" ".join(p.strip() for p in paragraphs if p.strip()), MESSAGE_FONT, size, width)
    return kept, joined


def _draw_message(canvas: Canvas, message: str, center: float, *, top: float, bottom: float, width: float) -> None:
    """The whole message between `top` and `bottom`: at the largest size that fits with its line
    breaks, else as one paragraph; a message within the contract's 500 characters always fits."""
    lines: list[str] = []
    size = 12.0
    while size >= 6.0:  # noqa: PLR2004
        kept, joined = _message_lines(message, size, width)
        room = int((top - bottom) / (size * 1.3)) + 1
        if len(kept) <= room or len(joined) <= room:
            lines = kept if len(kept) <= room else joined
            break
        size -= 0.5
    else:
        lines = joined  # only for text far beyond the contract's limit: drawn, possibly over the code
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
