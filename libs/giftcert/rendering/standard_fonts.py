"""What the standard Type 1 fonts print, which every PDF reader has and no file embeds: text in
Latin-1 (WinAnsiEncoding agrees with it on every printable character Latin-1 has)."""

from reportlab.pdfbase.pdfmetrics import standardFonts

TEXT_FONTS = frozenset(standardFonts) - {"Symbol", "ZapfDingbats"}
"""The Helvetica, Times and Courier faces; Symbol and ZapfDingbats have encodings of their own."""
LATIN_1_END = 256


def printable(text: str) -> str:
    """`text` with every character these fonts cannot print (outside Latin-1, or a control
    character) as '?', so that it shows as a mark rather than breaking or garbling the page."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch if ch.isprintable() and ord(ch) < LATIN_1_END else "?" for ch in text)
