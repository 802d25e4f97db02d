"""An email in its wire form, written directly: headers, a text part and at most one attachment,
as RFC 5322, 2045-2047 and 6532 describe them. The `email` package's policies parse every header
they are given into a tree and fold it back, which was half the mailer's CPU in the activation
benchmark; the emails here have a fixed shape, so they are written as bytes once. The standard
library still does the encoding that has rules of its own: RFC 2047 encoded words
(`email.header`), quoted-printable (`binascii`), base64.

The callers (compose.py) hand over text without line breaks: control characters became spaces
before they got here. A header never holds a CR or LF that was not put there to fold it."""

import base64
import binascii
import re
import secrets
from dataclasses import dataclass, field
from email.header import Header

_CRLF = "\r\n"
_LINE = 78  # the length a header or text line keeps to (RFC 5322 2.1.1)
_NOT_7BIT = re.compile(r"[^\x20-\x7e\n]|[ \t]\n|[ \t]$|[^\n]{79}")  # 7bit: printable ASCII, short lines


@dataclass(frozen=True, slots=True)
class Attachment:
    content: bytes
    content_type: str  # "application/pdf"
    filename: str  # ASCII: the callers name their files


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """What goes to the mail server: the envelope (`sender`, `recipients`: bare addresses) and the
    message (`as_bytes()`, CRLF lines). `smtputf8`: an address is not ASCII, so the message can go
    only to a server that offers SMTPUTF8 (RFC 6531), which carries UTF-8 headers."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes = field(repr=False)  # the body holds the redemption code: never in a log line

    @property
    def smtputf8(self) -> bool:
        return not (self.sender.isascii() and all(r.isascii() for r in self.recipients))

    def as_bytes(self) -> bytes:
        return self.data


def mailbox(header: str, display_name: str, address: str) -> str:
    """`"Name" <address>`: an ASCII name as a quoted string (so `,`, `<` or `;` in it stay part of the
    name), any other as RFC 2047 encoded words, none as the address alone."""
    if not display_name:
        return address
    if display_name.isascii():
        quoted = display_name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return f"{_folded(header, display_name, 'utf-8')} <{address}>"


def unstructured(header: str, text: str) -> str:
    """A header's free text (Subject): ASCII as it is, folded at spaces when long; anything else,
    or text that would read as an encoded word (`=?`), as encoded words, so a reader shows it as
    written."""
    return _folded(header, text, "us-ascii" if text.isascii() and "=?" not in text else "utf-8")


def _folded(header: str, text: str, charset: str) -> str:
    """`text` in `charset` (UTF-8: as encoded words), folded to lines of `_LINE`."""
    return Header(text, charset, maxlinelen=_LINE, header_name=header).encode(linesep=_CRLF)


def write_email(
    headers: list[tuple[str, str]], *, sender: str, recipients: tuple[str, ...], message_id: str, text: str,
    attachment: Attachment | None = None,
) -> OutgoingEmail:
    """`headers`: (name, value) as they should appear, values already written by `mailbox` or
    `unstructured` for the same header (or ASCII tokens such as a Message-ID). `text` is the body,
    `\\n` between lines."""
    head = [*headers, ("Message-ID", message_id), ("MIME-Version", "1.0")]
    text_part = _text_part(text)
    if attachment is None:
        body = text_part
    else:
        boundary = _boundary(text_part)
        head.append(("Content-Type", f'multipart/mixed; boundary="{boundary}"'))
        body = [
            b"", f"--{boundary}".encode(), *text_part, f"--{boundary}".encode(), *_attachment_part(attachment),
            f"--{boundary}--".encode(), b"",
        ]
    lines = [f"{name}: {value}".encode() for name, value in head]
    data = b"\r\n".join([*lines, *body])
    return OutgoingEmail(sender=sender, recipients=recipients, data=data)


def _text_part(text: str) -> list[bytes]:
    """Plain text in UTF-8: as it is (7bit) when ASCII in short lines, else quoted-printable."""
    content_type = b'Content-Type: text/plain; charset="utf-8"'
    if _NOT_7BIT.search(text) is None:  # no trailing blanks either: a mail system may strip them
        return [content_type, b"Content-Transfer-Encoding: 7bit", b"", *text.encode().split(b"\n"), b""]
    encoded = binascii.b2a_qp(text.encode(), istext=True).replace(b"\r\n", b"\n")
    return [content_type, b"Content-Transfer-Encoding: quoted-printable", b"", *encoded.split(b"\n"), b""]


def _attachment_part(attachment: Attachment) -> list[bytes]:
    return [
        f"Content-Type: {attachment.content_type}".encode(),
        b"Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment; filename="{attachment.filename}"'.encode(),
        b"",
        *_base64_lines(attachment.content),
        b"",
    ]


def _base64_lines(content: bytes) -> list[bytes]:
    """Lines of 76 characters (RFC 2045 6.8), encoded in one call: `base64.encodebytes` encodes a
    line at a time, a Python loop of 500 turns for a certificate's PDF."""
    encoded = base64.b64encode(content)
    return [encoded[start : start + 76] for start in range(0, len(encoded), 76)]


def _boundary(text_part: list[bytes]) -> str:
    """Random, so that no customer text can end a part early; checked against the text anyway
    (base64 never holds a `-`)."""
    while True:
        boundary = f"=_{secrets.token_hex(16)}"
        if not any(boundary.encode() in line for line in text_part):
            return boundary
