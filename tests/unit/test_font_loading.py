"""A font face is parsed (registered with reportlab) only when a page prints in it: a worker that
never prints Chinese, Japanese or Korean never holds their faces' 42 MB (giftcert.rendering.fonts).
Each case draws a certificate in a fresh interpreter, since this process has registered every face."""

import subprocess
import sys

DRAW_AND_LIST = """
import sys
from dataclasses import replace
from reportlab.pdfbase import pdfmetrics
from tests.unit.test_certificate_scripts import BASE
from giftcert.rendering.certificate_pdf import render_certificate_pdf
from giftcert.rendering.fonts import faces
faces()
render_certificate_pdf(replace(BASE, recipient_name=sys.argv[1], message=sys.argv[2], locale=sys.argv[3]))
print(*sorted(name for name in pdfmetrics.getRegisteredFontNames() if name.startswith("giftcert-")))
"""


def _registered_after_drawing(name: str, message: str, locale: str) -> list[str]:
    drawn = subprocess.run(
        [sys.executable, "-c", DRAW_AND_LIST, name, message, locale], capture_output=True, text=True, check=True
    )
    return drawn.stdout.split()


def test_a_certificate_in_latin_script_parses_only_the_latin_face() -> None:
    assert _registered_after_drawing("Zoë Müller", "Joyeux anniversaire !", "fr") == [
        "giftcert-NotoSans-Bold", "giftcert-NotoSans-Regular",
    ]


def test_a_face_is_parsed_by_the_first_certificate_that_prints_in_it() -> None:
    registered = _registered_after_drawing("山田さくら", "생일 축하해요!", "ja")

    assert {"giftcert-DroidSansFallbackFull", "giftcert-NanumGothic"} <= set(registered)
    assert "giftcert-NotoSansArabic-Regular" not in registered
