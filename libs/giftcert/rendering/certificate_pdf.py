"""The certificate PDF: one A4 page, rendered deterministically (same document, same bytes).

Customer text is drawn as plain strings, never as Paragraph markup, so `<font>` or `<img>` in a
message prints literally. The QR code is drawn from segno's module matrix as merged rectangles:
much cheaper than reportlab's own QR widget."""

import io
import textwrap
from dataclasses import dataclass
from datetime import datetime

import segno
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from giftcert.domain.codes import display_code
from giftcert.domain.money import Amount

INK = HexColor("#1d2b3a")
ACCENT = HexColor("#c0623b")
MUTED = HexColor("#5b6b7b")
PAPER = HexColor("#fbf7f0")


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
    canvas.setFont("Helvetica", 15)
    canvas.drawCentredString(center, height - 295, f"To  {_printable(document.recipient_name)[:90]}")
    canvas.drawCentredString(center, height - 318, f"From  {_printable(document.purchaser_name)[:90]}")

    y = height - 365
    if document.message:
        canvas.setFont("Helvetica-Oblique", 12)
        canvas.setFillColor(MUTED)
        lines = [
            wrapped
            for paragraph in document.message.replace("\t", " ").splitlines()
            for wrapped in (textwrap.wrap(_printable(paragraph), 70) or [""])
        ]
        for line in lines[:12]:
            canvas.drawCentredString(center, y, line)
            y -= 16

    qr_size = 150
    _draw_qr(canvas, document.code, center - qr_size / 2, 250, qr_size)
    canvas.setFillColor(INK)
    canvas.setFont("Helvetica", 11)
    canvas.drawCentredString(center, 222, "Your redemption code")
    canvas.setFont("Courier-Bold", 30)
    canvas.drawCentredString(center, 190, display_code(document.code))
    canvas.setFont("Helvetica", 12)
    canvas.setFillColor(MUTED)
    canvas.drawCentredString(center, 150, f"Valid until {document.expires_at:%d %B %Y}")
    canvas.setFont("Helvetica", 9)
    canvas.drawCentredString(
        center, 100, "Enter the code at checkout when you book. It is used in full on one booking."
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
