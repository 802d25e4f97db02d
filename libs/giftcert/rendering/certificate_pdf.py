"""The certificate PDF: one A4 page drawn with reportlab's canvas (decision 22), deterministic (same
document, same bytes: `invariant`), in the recipient's language (`document.locale`).

Text of any script is set in the embedded faces of fonts.py, line by line (lines.py); customer text
is drawn as plain strings, never as markup, so `<font>` or `<img>` in a message prints literally.
The paper and its border, the same on every certificate, are one form XObject drawn once per page.
The QR code of the redemption code is segno's, drawn as one rectangle per run of dark modules in a
row, all filled as one path."""

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from giftcert.domain.codes import display_code
from giftcert.domain.money import Amount
from giftcert.locales import DEFAULT_LOCALE, Language, language
from giftcert.rendering.lines import draw_line, line_width, wrapped

INK = HexColor("#1d2b3a")
ACCENT = HexColor("#c0623b")
MUTED = HexColor("#5b6b7b")
PAPER = HexColor("#fbf7f0")
WHITE = Color(1, 1, 1)
MARGIN = 48
QR_ERROR = "q"  # the highest level that holds a 12-character code in version 1 (21 x 21 modules)
QR_MASK = 0
"""Any mask scans; segno choosing the best one (its scoring of all eight) was a quarter of the page."""
QR_QUIET_ZONE = 4
"""Light modules around the QR code, on each side."""
FRAME = "certificate-frame"
MIN_SIZE = 6.0


@dataclass(frozen=True, slots=True)
class CertificateDocument:
    """What a certificate's PDF and emails say (delivery/certificate_document.py takes it from the
    certificate and its workspace): the renderer and the composer read these fields."""

    workspace_name: str
    amount: Amount
    recipient_name: str
    purchaser_name: str
    message: str | None
    code: str
    expires_at: datetime
    locale: str = DEFAULT_LOCALE
    """BCP 47: the language and formats of the PDF and the emails."""


def _draw_frame(canvas: Canvas) -> None:
    """The paper and its double border, as a form XObject: its operators are written once per PDF."""
    width, height = A4
    canvas.beginForm(FRAME)
    canvas.setFillColor(PAPER)
    canvas.rect(0, 0, width, height, stroke=0, fill=1)
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.roundRect(MARGIN, MARGIN, width - 2 * MARGIN, height - 2 * MARGIN, 18, stroke=1, fill=0)
    canvas.setLineWidth(0.8)
    canvas.roundRect(MARGIN + 8, MARGIN + 8, width - 2 * MARGIN - 16, height - 2 * MARGIN - 16, 14, stroke=1, fill=0)
    canvas.endForm()
    canvas.doForm(FRAME)


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """segno's symbol on a white square with its quiet zone: one rectangle per run of dark modules."""
    matrix = segno.make_qr(text, error=QR_ERROR, mask=QR_MASK, boost_error=False).matrix
    module = size / (len(matrix) + 2 * QR_QUIET_ZONE)
    left, top = x + QR_QUIET_ZONE * module, y + size - QR_QUIET_ZONE * module
    canvas.setFillColor(WHITE)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(INK)
    path = canvas.beginPath()
    for row, modules in enumerate(matrix):
        column = 0
        while column < len(modules):
            if not modules[column]:
                column += 1
                continue
            start = column
            while column < len(modules) and modules[column]:
                column += 1
            path.rect(left + start * module, top - (row + 1) * module, (column - start) * module, module)
    canvas.drawPath(path, stroke=0, fill=1)


def _size_to_fit(text: str, size: float, width: float, *, bold: bool = False) -> float:
    """The font size, at most `size`, at which `text` fits on one line of `width`."""
    natural = line_width(text, size, bold=bold)
    return size if natural <= width else max(MIN_SIZE, size * width / natural)


def _message_lines(paragraphs: list[str], size: float, width: float, *, joined: bool) -> list[str]:
    if joined:
        return wrapped(" ".join(p.strip() for p in paragraphs if p.strip()), size, width)
    return [line for p in paragraphs for line in wrapped(p, size, width)]


def _draw_message(
    canvas: Canvas, message: str, center: float, *, top: float, bottom: float, width: float,
) -> None:
    """The whole message between `top` and `bottom`: at the largest size that fits with its line
    breaks, else as one paragraph; a message within the contract's 500 characters always fits."""
    paragraphs = [p.replace("\t", " ") for p in message.splitlines()]
    size = 12.0
    while True:
        room = int((top - bottom) / (size * 1.3)) + 1
        if len(lines := _message_lines(paragraphs, size, width, joined=False)) <= room:
            break
        if len(lines := _message_lines(paragraphs, size, width, joined=True)) <= room or size <= MIN_SIZE:
            break  # at 6 points: only for text far beyond the contract's limit, drawn possibly over the code
        size -= 0.5
    canvas.setFillColor(MUTED)
    for index, line in enumerate(lines):
        draw_line(canvas, line, center, top - index * size * 1.3, size=size, align="centre")


def _draw_people(canvas: Canvas, document: CertificateDocument, words: Language, center: float, width: float) -> None:
    canvas.setFillColor(INK)
    people = (
        (words.gettext("To {name}"), document.recipient_name, A4[1] - 295),
        (words.gettext("From {name}"), document.purchaser_name, A4[1] - 318),
    )
    for label, name, y in people:
        line = label.format(name=name)
        draw_line(canvas, line, center, y, size=_size_to_fit(line, 15, width), align="centre")


def render_certificate_pdf(document: CertificateDocument) -> bytes:
    words = language(document.locale)
    width, height = A4
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(words.gettext("Gift certificate"))
    canvas.setAuthor(document.workspace_name)
    _draw_frame(canvas)

    center, text_width = width / 2, width - 2 * MARGIN - 48
    canvas.setFillColor(MUTED)
    workspace = document.workspace_name[:80]
    draw_line(canvas, workspace, center, height - 120, size=_size_to_fit(workspace, 13, text_width), align="centre")
    canvas.setFillColor(INK)
    title = words.gettext("Gift Certificate")
    draw_line(canvas, title, center, height - 170, size=_size_to_fit(title, 34, text_width, bold=True),
              bold=True, align="centre")
    canvas.setFillColor(ACCENT)
    draw_line(canvas, words.money(document.amount), center, height - 240, size=44, bold=True, align="centre")
    _draw_people(canvas, document, words, center, text_width)

    qr_size, qr_bottom = 140, 240
    if document.message:
        _draw_message(canvas, document.message, center, top=height - 360, bottom=qr_bottom + qr_size + 14,
                      width=text_width)
    _draw_qr(canvas, document.code, center - qr_size / 2, qr_bottom, qr_size)
    canvas.setFillColor(INK)
    draw_line(canvas, words.gettext("Your redemption code"), center, 216, size=11, align="centre")
    canvas.setFont("Courier-Bold", 30)  # the code is ASCII: the standard font, nothing embedded
    canvas.drawCentredString(center, 184, display_code(document.code))
    canvas.setFillColor(MUTED)
    valid = words.gettext("Valid until {date}").format(date=words.date(document.expires_at))
    draw_line(canvas, valid, center, 146, size=12, align="centre")
    how = words.gettext("Enter the code at checkout when you book. It is used in full on one booking.")
    draw_line(canvas, how, center, 100, size=_size_to_fit(how, 9, text_width), align="centre")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
