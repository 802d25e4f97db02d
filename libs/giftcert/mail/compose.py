"""Emails to recipients. Names and other customer text reach headers only after control characters
(CR, LF, ...) became spaces, a name as a quoted string or encoded words (mime.py) and an address
only if it is one, so no text can add a header or a recipient; every email here is made by
`_new_email`, so each gets that treatment. The
Message-ID is derived from the certificate, so a copy sent again after a crash can be recognised as
the same message; an operator's resend is a message of its own (`resend_id`), so that no mail
system drops it as a duplicate of the first."""

import re
from datetime import datetime
from email.utils import format_datetime, getaddresses
from functools import cache
from uuid import UUID

from giftcert.domain.codes import display_code, last4
from giftcert.domain.money import Amount
from giftcert.mail.mime import Attachment, OutgoingEmail, mailbox, unstructured, write_email

_ADDRESS = re.compile(r'[^\s<>(),;:"\[\]\\@]+@[^\s<>(),;:"\[\]\\@]+')  # no text a header would read as more
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # what mail headers would take as a break


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _address(header: str, name: str, email: str) -> tuple[str, str]:
    """(the header's mailbox, the bare address). A name that looks like an RFC 2047 encoded word
    (`=?utf-8?q?...?=`) would be decoded by mail readers into header text of the attacker's choosing
    (`Bcc: ...`, another address): such a header names the address alone. The body still greets
    the person by the name, as text."""
    address = _one_line(email)
    if _ADDRESS.fullmatch(address) is None:
        raise ValueError(f"not an email address: {address!r}")
    display_name = _one_line(name)
    if "=?" in display_name:
        display_name = ""
    return mailbox(header, display_name, address), address


@cache
def sender(mail_from: str) -> tuple[str, str]:
    """(the From header, the bare address), written once: a mailer sends every email from the same
    address. ValueError if `mail_from` names no address (the settings check GIFTCERT_MAIL_FROM so)."""
    addresses = getaddresses([_one_line(mail_from)])
    if len(addresses) != 1:
        raise ValueError(f"not one email address: {mail_from!r}")
    ((name, email),) = addresses
    return _address("From", name, email)


def _new_email(
    *, mail_from: str, to_name: str, to_email: str, subject: str, message_id: str, sent_at: datetime,
    text: list[str], attachment: Attachment | None = None,
) -> OutgoingEmail:
    """`sent_at`: the Date header (RFC 5322 asks for one), from the caller's clock."""
    sender_mailbox, sender_address = sender(mail_from)
    recipient, recipient_address = _address("To", to_name, to_email)
    return write_email(
        [
            ("From", sender_mailbox), ("To", recipient), ("Date", format_datetime(sent_at)),
            ("Subject", unstructured("Subject", _one_line(subject))),
        ],
        sender=sender_address, recipients=(recipient_address,), message_id=message_id, text="\n".join(text),
        attachment=attachment,
    )


_HOW_TO_USE = "Enter the code at checkout when you book; it is used in full on one booking."


def _greeting(to_name: str) -> list[str]:
    return [f"Hello {_one_line(to_name)},", ""]


def _code_line(code: str) -> str:
    """The one place the full code is written, in groups of four as printed on the PDF."""
    return f"Your code: {display_code(code)}"


def compose_certificate_email(
    *, mail_from: str, to_name: str, to_email: str, purchaser_name: str, workspace_name: str,
    amount: Amount, code: str, expires_at: datetime, message: str | None, pdf: bytes,
    certificate_id: UUID, sent_at: datetime, resend_id: UUID | None = None,
) -> OutgoingEmail:
    """`resend_id` marks an operator's resend: it gets a Message-ID of its own."""
    copy = "" if resend_id is None else f"-resend-{resend_id}"
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
    return _new_email(
        mail_from=mail_from, to_name=to_name, to_email=to_email,
        subject=f"Your gift certificate from {workspace_name}",
        message_id=f"<certificate-{certificate_id}{copy}@giftcert.invalid>", sent_at=sent_at, text=lines,
        attachment=Attachment(pdf, "application/pdf", f"gift-certificate-{last4(code)}.pdf"),
    )


def compose_reminder_email(
    *, mail_from: str, to_name: str, to_email: str, workspace_name: str, amount: Amount,
    code: str, expires_at: datetime, certificate_id: UUID, sent_at: datetime,
) -> OutgoingEmail:
    """The reminder that a certificate is about to expire; its code, so the recipient need not look
    for the first email, and no PDF."""
    return _new_email(
        mail_from=mail_from, to_name=to_name, to_email=to_email,
        subject=f"Your gift certificate expires on {expires_at:%d %B %Y}",
        message_id=f"<reminder-{certificate_id}@giftcert.invalid>", sent_at=sent_at,
        text=[
            *_greeting(to_name),
            (f"Your {amount.formatted()} gift certificate for {_one_line(workspace_name)} expires on "
            f"{expires_at:%d %B %Y}."),
            "",
            _code_line(code),
            "",
            _HOW_TO_USE,
        ],
    )
