"""One line of text in any mix of scripts, drawn on a reportlab canvas.

The line is cut into runs that share a face (fonts.py) and a bidi embedding level (the Unicode
bidirectional algorithm, from python-bidi's implementation); the runs are put in visual order by
rule L2, and each is shaped by HarfBuzz through reportlab (`shapeStr`: Arabic joining, Devanagari
conjuncts and vowel signs, Thai marks). A right-to-left run comes out of the shaper in visual
order. Text is always drawn as text, never read as markup.

A left-to-right run is wrapped in an ActualText span holding its characters, so that a reader
copying the text gets what was written, not the shaper's glyphs (Devanagari's reordered vowel
signs). Right-to-left runs are not: PDFium, like other readers, reads their glyphs back into
logical order itself."""

import functools
from dataclasses import dataclass
from typing import Literal

from bidi import algorithm
from bidi.mirror import MIRRORED
from reportlab.lib.abag import ABag
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import ShapedStr, shapeFragWord
from reportlab.pdfgen.canvas import Canvas

from giftcert.rendering.fonts import JOINERS, Face, face_of, faces, is_ignorable

Align = Literal["left", "centre", "right"]


@dataclass(frozen=True, slots=True)
class Run:
    text: str  # what is drawn, in the order the shaper takes it
    logical: str  # the characters as written
    font: str
    rtl: bool


def _faces_of(text: str) -> list[Face | None]:
    """Each character's face: a character any face prints (white space, digits, punctuation,
    combining marks) stays in the face of the one before it when that face has it."""
    chosen: list[Face | None] = []
    previous: Face | None = None
    for ch in text:
        if previous is not None and (ord(ch) in previous.covered or is_ignorable(ch)):
            chosen.append(previous)
            continue
        face = face_of(ch)
        if face is None and is_ignorable(ch):
            face = previous or faces()[0]
        chosen.append(face)
        previous = face or previous
    return chosen


@functools.lru_cache(maxsize=1024)
def runs(text: str, *, bold: bool = False) -> tuple[Run, ...]:
    """The runs of `text` in visual order, left to right. A character no face prints is left out."""
    storage = algorithm.get_empty_storage()
    base_level = algorithm.get_base_level(text)
    storage["base_level"], storage["base_dir"] = base_level, ("L", "R")[base_level]
    algorithm.get_embedding_levels(text, storage)
    for char, face in zip(storage["chars"], _faces_of(text), strict=True):
        char["face"] = face
    storage["chars"] = _joiners_carried(storage["chars"])
    algorithm.explicit_embed_and_overrides(storage, debug=False)
    algorithm.resolve_weak_types(storage, debug=False)
    algorithm.resolve_neutral_types(storage, debug=False)
    algorithm.resolve_implicit_levels(storage, debug=False)
    algorithm.reorder_resolved_levels(storage, debug=False)  # the characters, in visual order
    found: list[Run] = []
    group: list[dict[str, object]] = []
    for char in [*storage["chars"], None]:
        if group and (char is None or (char["face"], char["level"]) != (group[0]["face"], group[0]["level"])):
            found.append(_run(group, bold=bold))
            group = []
        if char is not None and char["face"] is not None:
            group.append(char)
    return tuple(found)


def _joiners_carried(chars: list[dict[str, object]]) -> list[dict[str, object]]:
    """Rule X9 of the bidi algorithm removes ZWJ and ZWNJ (class BN) before it orders the text, but
    the shaper needs them where they were written: a ZWNJ keeps two Persian letters from joining
    (می‌خواهم), a ZWJ asks for a Devanagari half form. Each is carried by the character before it,
    so it takes that character's face, level and place, and is written back after it (`_run`)."""
    kept: list[dict[str, object]] = []
    for char in chars:
        if char["orig"] == "BN" and ord(str(char["ch"])) in JOINERS and kept:
            kept[-1]["joiners"] = str(kept[-1].get("joiners", "")) + str(char["ch"])
        else:
            kept.append(char)
    return kept


def _run(visual: list[dict[str, object]], *, bold: bool) -> Run:
    face = visual[0]["face"]
    assert isinstance(face, Face)  # noqa: S101 - runs() groups only characters with a face
    rtl = int(str(visual[0]["level"])) % 2 == 1
    logical = "".join(str(c["ch"]) + str(c.get("joiners", "")) for c in (reversed(visual) if rtl else visual))
    strong = any(str(c["orig"]) in {"R", "AL"} for c in visual)
    # The shaper orders a run with right-to-left letters itself; a right-to-left run of neutrals
    # (" - " between Hebrew words) it would read as left to right: it gets the visual order here.
    text = logical if not rtl or strong else "".join(MIRRORED.get(str(c["ch"]), str(c["ch"])) for c in visual)
    return Run(text=text, logical=logical, font=face.name(bold=bold), rtl=rtl)


def _shaped(run: Run, size: float) -> tuple[str, float]:
    """What to draw for `run` (a ShapedStr when shaping changed anything) and its width. HarfBuzz's
    default features only: reportlab's `shapeStr` also turns on discretionary ligatures, which set
    Hebrew's yod and vav as the Yiddish ligature U+05F1."""
    word = [stringWidth(run.text, run.font, size), (ABag(fontName=run.font, fontSize=size), run.text)]
    shaped = shapeFragWord(word, features={})[1][1]
    if isinstance(shaped, ShapedStr):
        return shaped, sum(d.x_advance for d in shaped.__shapeData__) * size / 1000
    return shaped, stringWidth(shaped, run.font, size)


@functools.lru_cache(maxsize=4096)
def line_width(text: str, size: float, *, bold: bool = False) -> float:
    """Kept for the lines measured again and again while a message is fitted to its box."""
    return sum(_shaped(run, size)[1] for run in runs(text, bold=bold))


def wrapped(text: str, size: float, width: float) -> list[str]:
    """`text` in lines no wider than `width`: broken at spaces, and a word wider than a line (or
    text written without spaces, as Chinese and Japanese are) between its characters."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if line_width(candidate, size) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if line and line_width(line + ch, size) > width:
                lines.append(line)
                line = ""
            line += ch
    return [*lines, line]


def draw_line(
    canvas: Canvas, text: str, x: float, y: float, *, size: float, bold: bool = False, align: Align = "left",
) -> float:
    """Draws `text` on one line at baseline `y`, starting at, centred on or ending at `x`; returns
    its width."""
    shaped = [(run, *_shaped(run, size)) for run in runs(text, bold=bold)]
    width = sum(w for _, _, w in shaped)
    left = {"left": x, "centre": x - width / 2, "right": x - width}[align]
    for run, drawn, run_width in shaped:
        spanned = not run.rtl and (isinstance(drawn, ShapedStr) or not run.logical.isascii())
        if spanned:
            canvas.addLiteral(f"/Span <</ActualText <FEFF{run.logical.encode('utf-16-be').hex().upper()}>>> BDC")
        text_object = canvas.beginText(left, y)
        text_object.setFont(run.font, size)
        text_object.textOut(drawn)
        canvas.drawText(text_object)
        if spanned:
            canvas.addLiteral("EMC")
        left += run_width
    return width
