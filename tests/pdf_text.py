"""A PDF page's text as a reader gets it: PDFium's (Chrome's PDF engine) text of each line, with
where it sits and its size; for tests that read what the page shows, whatever fonts it embeds."""

import ctypes
from dataclasses import dataclass

import pypdfium2
import pypdfium2.raw as pdfium_c

_HYPHEN = {"\ufffe": "-", "\x02": "-"}
"""PDFium's marks for a hyphen at the end of a line (which it joins to the next line): a hyphen."""


@dataclass(frozen=True)
class Line:
    text: str
    x: float  # the left of its first character
    y: float  # the baseline
    size: float  # the largest font size on the line


def lines(pdf: bytes) -> list[Line]:
    """The lines of the first page, top to bottom, as PDFium extracts them (logical order)."""
    page = pypdfium2.PdfDocument(pdf)[0]
    textpage = page.get_textpage()
    found: list[Line] = []
    text, x, y, size = "", 0.0, 0.0, 0.0
    for index in range(textpage.count_chars()):
        character = _HYPHEN.get(character := textpage.get_text_range(index, 1), character)
        origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
        pdfium_c.FPDFText_GetCharOrigin(textpage, index, origin_x, origin_y)
        if character in {"\r", "\n"} or (text and abs(origin_y.value - y) > 1 and origin_y.value):
            if text:
                found.append(Line(text, x, y, size))
            text, size = "", 0.0
            if character in {"\r", "\n"}:
                continue
        if not text:
            x, y = origin_x.value, origin_y.value
        size = max(size, pdfium_c.FPDFText_GetFontSize(textpage, index))
        text += character
    if text:
        found.append(Line(text, x, y, size))
    return found
