"""The fonts the PDFs print with: TrueType faces that together cover the scripts customers write in,
tried in a fixed order for each character (decision 22). reportlab embeds only the glyphs a PDF
uses (a subset), so a certificate carries a few kilobytes of each face it needs.

The faces are looked up in GIFTCERT_FONT_DIRS (directories separated by `:`; by default where
Debian's fonts-noto-core, fonts-droid-fallback and fonts-nanum install them). Which characters each
face covers is read once per process from its character map (HarfBuzz, a few megabytes for all of
them); a face is registered with reportlab, which parses the whole file into its glyph tables, only
when something is drawn in it: the Chinese, Japanese and Korean faces are 42 of the 52 MB all the
faces take once registered, and a worker that never prints those scripts never holds them.

A character is printable when a face has a glyph for it, or when it is white space or a joiner the
shaper handles (ZWJ, ZWNJ, variation selectors); never a control or format character (a bidi
override would reorder the page). Nothing else is ever printed: `first_unprintable` is the rule the
ledger refuses a purchase by, and the renderer drops such a character rather than print a box. Emoji
have no monochrome face here, so they are refused."""

import functools
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import uharfbuzz as hb
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEFAULT_FONT_DIRS = (
    "/usr/share/fonts/truetype/noto",  # fonts-noto-core
    "/usr/share/fonts/truetype/droid",  # fonts-droid-fallback: Chinese, Japanese
    "/usr/share/fonts/truetype/nanum",  # fonts-nanum: Korean
)
FONT_DIRS_VARIABLE = "GIFTCERT_FONT_DIRS"

# (regular, bold) file of each face, in the order a character is looked for; a face without a bold
# cut prints bold text in its regular one.
FACES: tuple[tuple[str, str], ...] = (
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),  # Latin, Greek, Cyrillic
    ("NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf"),
    ("NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    ("NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"),
    ("DroidSansFallbackFull.ttf", "DroidSansFallbackFull.ttf"),  # Han, kana
    ("NanumGothic.ttf", "NanumGothicBold.ttf"),  # Hangul
    ("NotoSansSymbols2-Regular.ttf", "NotoSansSymbols2-Regular.ttf"),  # arrows, stars, card suits
)
JOINERS = frozenset({0x200C, 0x200D})
"""ZWNJ and ZWJ: they ask the shaper to keep letters apart or to join them."""
_IGNORABLE = frozenset({*JOINERS, *range(0xFE00, 0xFE10)})
"""Drawn by the shaper as nothing or as a choice of the glyph before them, in any face."""


class FontsMissingError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Face:
    regular: Path
    bold: Path
    covered: frozenset[int]

    def name(self, *, bold: bool) -> str:
        """reportlab's name for the cut, registered with it on the first call in the process."""
        return _registered(self.bold if bold else self.regular)


def font_dirs() -> list[Path]:
    configured = os.environ.get(FONT_DIRS_VARIABLE, "")
    return [Path(d) for d in (configured.split(os.pathsep) if configured else DEFAULT_FONT_DIRS) if d]


def _find(filename: str, dirs: list[Path]) -> Path:
    for directory in dirs:
        if (path := directory / filename).is_file():
            return path
    raise FontsMissingError(
        f"font {filename} not found in {':'.join(map(str, dirs))} ({FONT_DIRS_VARIABLE}); on Debian: "
        "apt-get install fonts-noto-core fonts-droid-fallback fonts-nanum"
    )


@functools.cache
def _registered(path: Path) -> str:
    name = f"giftcert-{path.stem}"
    try:
        font = pdfmetrics.getFont(name)
    except KeyError:
        font = TTFont(name, str(path))
        pdfmetrics.registerFont(font)
    if not isinstance(font, TTFont):
        raise FontsMissingError(f"{name} is registered, but not as a TrueType font")
    return name


def _covered(path: Path) -> frozenset[int]:
    """The characters the face's character map gives a glyph, read without parsing its glyphs."""
    return frozenset(hb.Face(hb.Blob.from_file_path(str(path))).unicodes)


@functools.cache
def faces() -> tuple[Face, ...]:
    """Every face and what it covers: once per process. Registering them is left to `Face.name`."""
    dirs = font_dirs()
    found = []
    for regular_file, bold_file in FACES:
        regular, bold = _find(regular_file, dirs), _find(bold_file, dirs)
        found.append(Face(regular, bold, _covered(regular)))
    return tuple(found)


def register_first_face() -> None:
    """Registers both cuts of the first face (Latin, Greek, Cyrillic, digits: on nearly every page),
    so a process that draws PDFs parses it at its start rather than at its first page."""
    first = faces()[0]
    first.name(bold=False)
    first.name(bold=True)


def face_of(character: str) -> Face | None:
    """The first face with a glyph for `character`."""
    code = ord(character)
    return next((face for face in faces() if code in face.covered), None)


def is_ignorable(character: str) -> bool:
    return ord(character) in _IGNORABLE or character.isspace()


def first_unprintable(text: str) -> str | None:
    """The first character of `text` that no face prints (white space aside), or None."""
    if text.isascii():
        return next((ch for ch in text if not (ch.isprintable() or ch.isspace())), None)
    return next((ch for ch in text if not is_ignorable(ch) and (_invisible(ch) or face_of(ch) is None)), None)


def _invisible(character: str) -> bool:
    """A control, format (bidi overrides, which would reorder the page), surrogate, private-use or
    unassigned character: not text to print, whether a face maps it or not."""
    return unicodedata.category(character) in {"Cc", "Cf", "Cs", "Co", "Cn"}


def font_for(text: str, *, bold: bool = False) -> str:
    """The face that prints the most characters of `text` (the first of those that print them all),
    for short text drawn in one font without shaping: a chart's axis labels."""
    needed = {ord(ch) for ch in text if not is_ignorable(ch)}
    face = max(faces(), key=lambda f: len(needed & f.covered))  # max keeps the first of equals
    return face.name(bold=bold)
