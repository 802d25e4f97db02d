"""The HTML part of an email: the plain text's lines, each escaped, in the certificate's colours.

Self-contained: inline styles only, no remote image, stylesheet or font, so a mail client shows it
as it is without loading anything. A quoted message (lines the plain text indents) is a block of
its own; customer text is never read as markup."""

from html import escape

from giftcert.locales import Language
from giftcert.rendering.certificate_pdf import CertificateDocument

INK = "#1d2b3a"
ACCENT = "#c0623b"
MUTED = "#5b6b7b"
PAPER = "#fbf7f0"
_QUOTED = "  "


def html_body(lines: list[str], document: CertificateDocument, words: Language) -> str:
    """`lines`: the plain text's; those it indents are the quoted message."""
    blocks: list[str] = []
    quoted: list[str] = []
    for line in [*lines, ""]:
        if line.startswith(_QUOTED):
            quoted.append(escape(line.removeprefix(_QUOTED)))
            continue
        if quoted:
            blocks.append(
                f'<blockquote style="margin:0 0 1em;padding:0 1em;border-left:3px solid {ACCENT};color:{MUTED}">'
                + "<br>".join(quoted) + "</blockquote>"
            )
            quoted = []
        if line:
            blocks.append(f'<p style="margin:0 0 1em">{escape(line)}</p>')
    direction = "rtl" if words.locale.character_order == "right-to-left" else "ltr"
    workspace = escape(document.workspace_name)
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(words.locale.language)}" dir="{direction}"><head>'
        f'<meta charset="utf-8"><title>{workspace}</title></head>\n'
        f'<body style="margin:0;padding:24px;background:{PAPER};color:{INK};font-family:sans-serif">\n'
        f'<div style="max-width:560px;margin:0 auto;border:2px solid {ACCENT};border-radius:12px;padding:24px">\n'
        f'<h1 style="margin:0 0 16px;font-size:20px;color:{ACCENT}">{workspace}</h1>\n'
        + "\n".join(blocks)
        + "\n</div>\n</body></html>\n"
    )
