"""A one-page PDF written straight from what the page draws (decision 19).

reportlab still lays the page out: it measures the text (`stringWidth`), formats the numbers
(`fp_str`), escapes the strings (`escapePDF`) and makes the paths. What this module does in its
place is write the file: the drawing operators compressed into one content stream, the standard
Type 1 fonts the page names, the title and author, and the cross-reference table, with nothing
in them that changes from one rendering to the next (same drawing, same bytes).

The text is set in the standard fonts (`standard_fonts`): Latin-1 in WinAnsiEncoding, and a
character they cannot print shows as '?'."""

import hashlib
import zlib
from collections.abc import Iterable

from reportlab.lib.colors import Color
from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase.pdfmetrics import stringWidth

from giftcert.rendering.standard_fonts import TEXT_FONTS, printable

HEADER = b"%PDF-1.4\n%\x93\x8c\x8b\x9e\n"
"""The version, then a comment of four bytes above 127 that tells a transfer the file is binary."""
CATALOG, PAGES, PAGE, CONTENTS, INFO, FIRST_FONT = 1, 2, 3, 4, 5, 6
"""Object numbers: the fonts come last, as many as the page names."""


def _text_string(text: str) -> str:
    """A PDF text string of any Unicode text: UTF-16BE with its byte-order mark, in hex."""
    return f"<feff{text.encode('utf-16-be').hex()}>"


class PageDrawing:
    """The drawing operators of one page in the order they are drawn, and the fonts they use."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self._operators: list[str] = []
        self._fonts: dict[str, str] = {}
        """Each font's base name -> its resource name on the page (F1, F2, ...)."""

    def draw(self, operators: str) -> None:
        """Operators written as they are: a path, a graphics state between `q` and `Q`."""
        self._operators.append(operators)

    def fill_colour(self, colour: Color) -> None:
        self._operators.append(f"{fp_str(colour.rgb())} rg")

    def filled_rectangle(self, x: float, y: float, width: float, height: float) -> None:
        self._operators.append(f"{fp_str(x, y, width, height)} re f")

    def centred_text(self, text: str, *, font: str, size: float, x: float, y: float) -> None:
        """`text` on one line in `font` at `size` points, centred on `x`, its baseline at `y`."""
        if font not in TEXT_FONTS:
            raise ValueError(f"{font!r} is not one of the standard text fonts: {sorted(TEXT_FONTS)}")
        name = self._fonts.setdefault(font, f"F{len(self._fonts) + 1}")
        text = printable(text)
        left = x - stringWidth(text, font, size) / 2
        self._operators.append(
            f"BT /{name} {fp_str(size)} Tf 1 0 0 1 {fp_str(left, y)} Tm ({escapePDF(text.encode('latin-1'))}) Tj ET"
        )

    def pdf(self, *, title: str, author: str) -> bytes:
        """The file: one page of this size with these operators, the title and author in its
        document information."""
        stream = zlib.compress("\n".join(self._operators).encode("ascii"))
        fonts = " ".join(f"/{name} {FIRST_FONT + i} 0 R" for i, name in enumerate(self._fonts.values()))
        objects = [  # in the order of their numbers
            f"<< /Type /Catalog /Pages {PAGES} 0 R >>",
            f"<< /Type /Pages /Kids [ {PAGE} 0 R ] /Count 1 >>",
            (
                f"<< /Type /Page /Parent {PAGES} 0 R /MediaBox [ 0 0 {fp_str(self.width, self.height)} ] "
                f"/Resources << /Font << {fonts} >> /ProcSet [ /PDF /Text ] >> /Contents {CONTENTS} 0 R >>"
            ),
            f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n",
            f"<< /Title {_text_string(title)} /Author {_text_string(author)} /Producer (giftcert) >>",
            *(
                f"<< /Type /Font /Subtype /Type1 /BaseFont /{font} /Encoding /WinAnsiEncoding >>"
                for font in self._fonts
            ),
        ]
        encoded = [body.encode("ascii") for body in objects]
        encoded[CONTENTS - 1] += stream + b"\nendstream"
        return _file(encoded)


def _file(objects: Iterable[bytes]) -> bytes:
    """The header, each object numbered from 1, the cross-reference table and the trailer."""
    parts, offsets, length = [HEADER], [], len(HEADER)
    for number, body in enumerate(objects, start=1):
        part = b"%d 0 obj\n%s\nendobj\n" % (number, body)
        offsets.append(length)
        parts.append(part)
        length += len(part)
    body = b"".join(parts)
    identifier = hashlib.md5(body, usedforsecurity=False).hexdigest()
    table = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return b"".join([
        body,
        b"xref\n0 %d\n0000000000 65535 f \n%s" % (len(offsets) + 1, table),
        b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [ <%s> <%s> ] >>\n"
        % (len(offsets) + 1, CATALOG, INFO, identifier.encode(), identifier.encode()),
        b"startxref\n%d\n%%%%EOF\n" % length,
    ])
