"""Emails to recipients. Names and other customer text reach headers only through
`email.headerregistry.Address` after control characters (CR, LF, ...) became spaces, so no text
can add a header; every email here starts from `_new_message`, so each gets that treatment. The
Message-ID is derived from the certificate, so a copy sent again after a crash can be recognised as
the same message; an operator's resend is a message of its own (`resend_id`), so that no mail
system drops it as a duplicate of the first."""

import re
from datetime import datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr
from functools import cache
from uuid import UUID

from giftcert.domain.codes import display_code, last4
from giftcert.domain.money import Amount

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # what mail headers would take as a break


class _HeaderClasses(HeaderRegistry):
    """The standard registry builds a new class for every header it makes (`type(...)` in its
    `__getitem__`), about a sixth of composing an email; a header's class depends on its name
    alone, so here each is built once. Parsing and folding are the standard library's."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]


_POLICY = SMTP.clone(header_factory=_HeaderClasses())


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _address(name: str, email: str) -> Address:
    """A name that looks like an RFC 2047 encoded word (`=?utf-8?q?...?=`) would be decoded by mail
    readers into header text of the attacker's choosing (`Bcc: ...`, another address): such a
    header names the address alone. The body still greets the person by the name, as text."""
    username, _, domain = _one_line(email).rpartition("@")
    display_name = _one_line(name)
    if "=?" in display_name:
        display_name = ""
    return Address(display_name=display_name, username=username, domain=domain)


@cache
def _sender(mail_from: str) -> BaseHeader:
    """The From header, parsed once: a mailer sends every email from the same address."""
    name, email = parseaddr(_one_line(mail_from))
    return _POLICY.header_factory("From", _address(name, email))  # type: ignore[no-any-return]


def _new_message(*, mail_from: str, to_name: str, to_email: str, subject: str, message_id: str) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["From"] = _sender(mail_from)
    message["To"] = _address(to_name, to_email)
    message["Subject"] = _one_line(subject)
    message["Message-ID"] = message_id
    return message


_HOW_TO_USE = "Enter the code at checkout when you book; it is used in full on one booking."


def _greeting(to_name: str) -> list[str]:
    return [f"Hello {_one_line(to_name)},", ""]


def _code_line(code: str) -> str:
    """The one place the full code is written, in groups of four as printed on the PDF."""
    return f"Your code: {display_code(code)}"


def compose_certificate_email(
    *, mail_from: str, to_name: str, to_email: str, purchaser_name: str, workspace_name: str,
    amount: Amount, code: str, expires_at: datetime, message: str | None, pdf: bytes,
    certificate_id: UUID, resend_id: UUID | None = None,
) -> EmailMessage:
    """`resend_id` marks an operator's resend: it gets a Message-ID of its own."""
    copy = "" if resend_id is None else f"-resend-{resend_id}"
    email = _new_message(
        mail_from=mail_from, to_name=to_name, to_email=to_email,
        subject=f"Your gift certificate from {workspace_name}",
        message_id=f"<certificate-{certificate_id}{copy}@giftcert.invalid>",
    )
    lines = [
        *_greeting(to_name),
        (f"{_one_line(purchaser_name)} has given you a gift certificate of {amount.formatted()} "
        f"for {_one_line(workspace_name)}."),
    ]
    if message:
        lines += ["", "Their message:", "", *(f"  {line}" for line in message.splitlines())]
    lines += [
        "",
        _code_line(code),
        f"Valid until: {expires_at:%d %B %Y}",
        "",
        _HOW_TO_USE,
        "The certificate is attached as a PDF.",
    ]
    email.set_content("\n".join(lines))
    email.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"gift-certificate-{last4(code)}.pdf"
    )
    return email


def compose_reminder_email(
    *, mail_from: str, to_name: str, to_email: str, workspace_name: str, amount: Amount,
    code: str, expires_at: datetime, certificate_id: UUID,
) -> EmailMessage:
    """The reminder that a certificate is about to expire; its code, so the recipient need not look
    for the first email, and no PDF."""
    email = _new_message(
        mail_from=mail_from, to_name=to_name, to_email=to_email,
        subject=f"Your gift certificate expires on {expires_at:%d %B %Y}",
        message_id=f"<reminder-{certificate_id}@giftcert.invalid>",
    )
    email.set_content(
        "\n".join([
            *_greeting(to_name),
            (f"Your {amount.formatted()} gift certificate for {_one_line(workspace_name)} expires on "
            f"{expires_at:%d %B %Y}."),
            "",
            _code_line(code),
            "",
            _HOW_TO_USE,
        ])
    )
    return email
