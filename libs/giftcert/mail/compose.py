"""Emails to recipients, written by the standard library's `email.message.EmailMessage` (decision 22)
in the certificate's language (`CertificateDocument.locale`): a plain-text part and an HTML part
with the same content, and for the certificate email its PDF.

Names and other customer text reach headers only after control characters (CR, LF, ...) became
spaces, and an address only if it is one, so no text can add a header or a recipient; every email
here is made by `_new_email`, so each gets that treatment. In the HTML part every piece of customer
text is escaped, and nothing is loaded from elsewhere (no remote image, style or font). The
Message-ID is derived from the certificate, so a copy sent again after a crash can be recognised as
the same message; an operator's resend is a message of its own (`resend_id`), so that no mail
system drops it as a duplicate of the first."""

import re
import secrets
from datetime import datetime
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses
from functools import cache
from uuid import UUID

from giftcert.domain.codes import display_code, last4
from giftcert.domain.money import Amount
from giftcert.locales import Language, language
from giftcert.mail.html import html_body
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.rendering.certificate_pdf import CertificateDocument

_ADDRESS = re.compile(r'[^\s<>(),;:"\[\]\\@]+@[^\s<>(),;:"\[\]\\@]+')  # no text a header would read as more
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # what mail headers would take as a break


class _HeaderClasses(HeaderRegistry):
    """The standard registry, but each header's class made once: the standard one makes a new class
    (`type(...)`) for every header of every email, a tenth of composing one (py-spy, docs/benchmarks.md)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        if (made := self._made.get(key)) is None:
            made = self._made[key] = super().__getitem__(name)
        return made


# parts in quoted-printable or base64: any mail server carries them
_SEVEN_BIT = SMTP.clone(cte_type="7bit", header_factory=_HeaderClasses())


def _boundary() -> str:
    """A multipart boundary no part can hold: `=_` never appears in quoted-printable or base64 (a `=`
    there is `=3D` or padding), and a 7bit part would need the random rest. Given before the parts
    are flattened, it spares the generator a boundary of its own, which it checks by compiling a
    pattern and searching the whole flattened text with it."""
    return f"=_giftcert_{secrets.token_hex(16)}"


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _address(name: str, email: str) -> tuple[Address, str]:
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
    username, domain = address.rsplit("@", 1)  # by parts: the parser refuses a UTF-8 local part, SMTPUTF8 takes it
    return Address(display_name=display_name, username=username, domain=domain), address


@cache
def sender(mail_from: str) -> tuple[Address, str]:
    """(the From mailbox, the bare address): a mailer sends every email from the same address.
    ValueError if `mail_from` names no address (the settings check GIFTCERT_MAIL_FROM so)."""
    addresses = getaddresses([_one_line(mail_from)])
    if len(addresses) != 1:
        raise ValueError(f"not one email address: {mail_from!r}")
    ((name, email),) = addresses
    return _address(name, email)


def _new_email(
    *, mail_from: str, to_name: str, to_email: str, subject: str, message_id: str, sent_at: datetime,
    text: list[str], html: str,
) -> tuple[EmailMessage, str, str]:
    """`sent_at`: the Date header (RFC 5322 asks for one), from the caller's clock."""
    sender_mailbox, sender_address = sender(mail_from)
    recipient, recipient_address = _address(to_name, to_email)
    message = EmailMessage(policy=_SEVEN_BIT)
    message["From"] = sender_mailbox
    message["To"] = recipient
    message["Date"] = format_datetime(sent_at)
    message["Subject"] = _one_line(subject)
    message["Message-ID"] = message_id
    message.set_content("\n".join(text) + "\n")
    message.make_alternative(boundary=_boundary())
    message.add_alternative(html, subtype="html")
    return message, sender_address, recipient_address


def _lines(document: CertificateDocument, words: Language, *, reminder: bool) -> list[str]:
    """The body as lines of text: the same content in the plain and the HTML part."""
    name, workspace = _one_line(document.recipient_name), _one_line(document.workspace_name)
    amount, date = words.money(document.amount), words.date(document.expires_at)
    lines = [words.gettext("Hello {name},").format(name=name), ""]
    if reminder:
        lines.append(words.gettext("Your gift certificate of {amount} for {workspace} expires on {date}.").format(
            amount=amount, workspace=workspace, date=date))
    else:
        lines.append(words.gettext("{purchaser} has given you a gift certificate of {amount} for {workspace}.").format(
            purchaser=_one_line(document.purchaser_name), amount=amount, workspace=workspace))
        if document.message:
            lines += ["", words.gettext("Their message:"), "", *(f"  {line}" for line in document.message.splitlines())]
    lines += ["", words.gettext("Your code: {code}").format(code=display_code(document.code))]
    if not reminder:
        lines.append(words.gettext("Valid until: {date}").format(date=date))
    lines += ["", words.gettext("Enter the code at checkout when you book; it is used in full on one booking.")]
    if not reminder:
        lines.append(words.gettext("The certificate is attached as a PDF."))
    return lines


def compose_certificate_email(
    document: CertificateDocument, *, mail_from: str, to_email: str, pdf: bytes, certificate_id: UUID,
    sent_at: datetime, resend_id: UUID | None = None,
) -> OutgoingEmail:
    """`resend_id` marks an operator's resend: it gets a Message-ID of its own."""
    words = language(document.locale)
    copy = "" if resend_id is None else f"-resend-{resend_id}"
    lines = _lines(document, words, reminder=False)
    message, sender_address, recipient = _new_email(
        mail_from=mail_from, to_name=document.recipient_name, to_email=to_email,
        subject=words.gettext("Your gift certificate from {workspace}").format(workspace=document.workspace_name),
        message_id=f"<certificate-{certificate_id}{copy}@giftcert.invalid>", sent_at=sent_at, text=lines,
        html=html_body(lines, document, words),
    )
    filename = words.gettext("gift-certificate-{last4}.pdf").format(last4=last4(document.code))
    message.make_mixed(boundary=_boundary())
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return OutgoingEmail.of(message, sender=sender_address, recipients=(recipient,))


def compose_reminder_email(
    document: CertificateDocument, *, mail_from: str, to_email: str, certificate_id: UUID, sent_at: datetime,
) -> OutgoingEmail:
    """The reminder that a certificate is about to expire; its code, so the recipient need not look
    for the first email, and no PDF."""
    words = language(document.locale)
    lines = _lines(document, words, reminder=True)
    message, sender_address, recipient = _new_email(
        mail_from=mail_from, to_name=document.recipient_name, to_email=to_email,
        subject=words.gettext("Your gift certificate expires on {date}").format(date=words.date(document.expires_at)),
        message_id=f"<reminder-{certificate_id}@giftcert.invalid>", sent_at=sent_at, text=lines,
        html=html_body(lines, document, words),
    )
    return OutgoingEmail.of(message, sender=sender_address, recipients=(recipient,))


def compose_remaining_balance_email(
    document: CertificateDocument, *, mail_from: str, to_email: str, applied: Amount, balance: Amount,
    redemption_id: UUID, sent_at: datetime,
) -> OutgoingEmail:
    """After a booking paid part of its value: what it paid, what is left and until when. The code's
    last four characters only, so the recipient knows which certificate is meant; the full code is in
    the first email and the PDF. One per redemption (`redemption_id`: its request's id)."""
    words = language(document.locale)
    name, workspace = _one_line(document.recipient_name), _one_line(document.workspace_name)
    paid = words.gettext("Your gift certificate ending in {last4} just paid {amount} of a booking with {workspace}.")
    lines = [
        words.gettext("Hello {name},").format(name=name), "",
        paid.format(last4=last4(document.code), amount=words.money(applied), workspace=workspace), "",
        words.gettext("Remaining balance: {balance}").format(balance=words.money(balance)),
        words.gettext("Valid until: {date}").format(date=words.date(document.expires_at)),
        "",
        words.gettext("Enter the same code at checkout to use the rest on another booking."),
    ]
    message, sender_address, recipient = _new_email(
        mail_from=mail_from, to_name=document.recipient_name, to_email=to_email,
        subject=words.gettext("Your remaining balance with {workspace}").format(workspace=document.workspace_name),
        message_id=f"<remaining-balance-{redemption_id}@giftcert.invalid>", sent_at=sent_at, text=lines,
        html=html_body(lines, document, words),
    )
    return OutgoingEmail.of(message, sender=sender_address, recipients=(recipient,))
