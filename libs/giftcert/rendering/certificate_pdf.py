"""The certificate PDF: one A4 page, rendered deterministically (same document, same bytes), laid
out with reportlab's metrics and written by `one_page_pdf` (decision 19).

Customer text is drawn as plain strings, never as Paragraph markup, so `<font>` or `<img>` in a
message prints literally. The QR code (see `qr_code`) is drawn as one rectangle per run of dark
modules in a row, written as one path whose numbers are formatted once per process: much cheaper
than reportlab's own QR widget or one path operation per module."""

import functools
import re
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.pathobject import PDFPathObject

from giftcert.domain.codes import display_code
from giftcert.domain.money import Amount
from giftcert.rendering import qr_code
from giftcert.rendering.one_page_pdf import PageDrawing
from giftcert.rendering.standard_fonts import printable

INK = HexColor("#1d2b3a")
ACCENT = HexColor("#c0623b")
MUTED = HexColor("#5b6b7b")
PAPER = HexColor("#fbf7f0")
WHITE = Color(1, 1, 1)
MESSAGE_FONT = "Helvetica-Oblique"
MARGIN = 48
QR_MASK = qr_code.MASK
QR_QUIET_ZONE = 4
"""Light modules around the QR code, on each side."""
DARK_RUN = re.compile(b"\x01+")


@dataclass(frozen=True, slots=True)
class CertificateDocument:
    workspace_name: str
    amount: Amount
    recipient_name: str
    purchaser_name: str
    message: str | None
    code: str
    expires_at: datetime


class _RunRectangles(dict[tuple[int, int], str]):
    """The path operator (`x y width height re`) of each run of dark modules of a QR code drawn in the
    square of `size` at (x, y), its quiet zone inside the square; keyed by the run's span in the
    code's rows joined with one light module between each two, formatted the first time it is seen."""

    def __init__(self, x: float, y: float, size: float) -> None:
        super().__init__()
        self.module = size / (qr_code.SIZE + 2 * QR_QUIET_ZONE)
        self.left, self.top = x + QR_QUIET_ZONE * self.module, y + size - QR_QUIET_ZONE * self.module

    def __missing__(self, span: tuple[int, int]) -> str:
        (row, column), length = divmod(span[0], qr_code.SIZE + 1), span[1] - span[0]
        left, bottom = self.left + column * self.module, self.top - (row + 1) * self.module
        rectangle = f"{fp_str(left, bottom, length * self.module, self.module)} re"
        self[span] = rectangle
        return rectangle


@functools.cache
def _run_rectangles(x: float, y: float, size: float) -> _RunRectangles:
    return _RunRectangles(x, y, size)


def _draw_qr(page: PageDrawing, text: str, x: float, y: float, size: float) -> None:
    """One rectangle per run of dark modules in a row, all filled as one path."""
    page.fill_colour(WHITE)
    page.filled_rectangle(x, y, size, size)
    page.fill_colour(INK)
    rectangles = _run_rectangles(x, y, size)
    runs = DARK_RUN.finditer(b"\x00".join(qr_code.qr_matrix(text)))
    page.draw(" ".join([*(rectangles[run.span()] for run in runs), "f"]))


@functools.cache
def _frame() -> str:
    """The paper and its double border, the same on every page: its operators made once, between
    `q` and `Q` so that the graphics state after it is the one the page started with."""
    width, height = A4
    outer, inner = PDFPathObject(), PDFPathObject()
    outer.roundRect(MARGIN, MARGIN, width - 2 * MARGIN, height - 2 * MARGIN, 18)
    inner.roundRect(MARGIN + 8, MARGIN + 8, width - 2 * MARGIN - 16, height - 2 * MARGIN - 16, 14)
    return " ".join([
        "q", f"{fp_str(PAPER.rgb())} rg", f"0 0 {fp_str(width, height)} re f",
        f"{fp_str(ACCENT.rgb())} RG", "3 w", outer.getCode(), "S", ".8 w", inner.getCode(), "S", "Q",
    ])


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


def _draw_message(page: PageDrawing, message: str, center: float, *, top: float, bottom: float, width: float) -> None:
    """The whole message between `top` and `bottom`: at the largest size that fits with its line
    breaks, else as one paragraph; a message within the contract's 500 characters always fits."""
    paragraphs = [printable(p.replace("\t", " ")) for p in message.splitlines()]
    size = 12.0
    while True:
        room = int((top - bottom) / (size * 1.3)) + 1
        if len(lines := _kept_lines(paragraphs, size, width)) <= room:
            break
        if len(lines := _joined_lines(paragraphs, size, width)) <= room or size <= 6.0:  # noqa: PLR2004
            break  # at 6 points: only for text far beyond the contract's limit, drawn possibly over the code
        size -= 0.5
    page.fill_colour(MUTED)
    for index, line in enumerate(lines):
        page.centred_text(line, font=MESSAGE_FONT, size=size, x=center, y=top - index * size * 1.3)


def render_certificate_pdf(document: CertificateDocument) -> bytes:
    width, height = A4
    page = PageDrawing(width, height)
    page.draw(_frame())

    center = width / 2
    page.fill_colour(MUTED)
    page.centred_text(document.workspace_name[:80], font="Helvetica", size=13, x=center, y=height - 120)
    page.fill_colour(INK)
    page.centred_text("Gift Certificate", font="Helvetica-Bold", size=34, x=center, y=height - 170)
    page.fill_colour(ACCENT)
    page.centred_text(document.amount.formatted(), font="Helvetica-Bold", size=44, x=center, y=height - 240)

    page.fill_colour(INK)
    text_width = width - 2 * MARGIN - 48
    people = ((f"To  {document.recipient_name}", height - 295), (f"From  {document.purchaser_name}", height - 318))
    for text, y in people:
        line = printable(text)
        page.centred_text(line, font="Helvetica", size=_size_to_fit(line, "Helvetica", 15, text_width), x=center, y=y)

    qr_size, qr_bottom = 140, 240
    if document.message:
        _draw_message(page, document.message, center, top=height - 360, bottom=qr_bottom + qr_size + 14,
                      width=text_width)
    _draw_qr(page, document.code, center - qr_size / 2, qr_bottom, qr_size)
    page.fill_colour(INK)
    page.centred_text("Your redemption code", font="Helvetica", size=11, x=center, y=216)
    page.centred_text(display_code(document.code), font="Courier-Bold", size=30, x=center, y=184)
    page.fill_colour(MUTED)
    page.centred_text(f"Valid until {document.expires_at:%d %B %Y}", font="Helvetica", size=12, x=center, y=146)
    page.centred_text(
        "Enter the code at checkout when you book. It is used in full on one booking.",
        font="Helvetica", size=9, x=center, y=100,
    )
    return page.pdf(title="Gift certificate", author=document.workspace_name)
