"""An email as it goes to the mail server: the envelope and the message's wire bytes."""

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """The envelope (`sender`, `recipients`: bare addresses) and the message (`as_bytes()`, CRLF
    lines). `smtputf8`: an address is not ASCII, so the message can go only to a server that offers
    SMTPUTF8 (RFC 6531), which carries UTF-8 headers."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes = field(repr=False)  # the body holds the redemption code: never in a log line

    @classmethod
    def of(cls, message: EmailMessage, *, sender: str, recipients: tuple[str, ...]) -> "OutgoingEmail":
        """`message` written by the standard library: with the SMTP policy (headers in RFC 2047
        encoded words), or SMTPUTF8 (UTF-8 headers) when an address needs it."""
        utf8 = not (sender.isascii() and all(r.isascii() for r in recipients))
        return cls(sender, recipients, message.as_bytes(policy=SMTPUTF8 if utf8 else SMTP))

    @property
    def smtputf8(self) -> bool:
        return not (self.sender.isascii() and all(r.isascii() for r in self.recipients))

    def as_bytes(self) -> bytes:
        return self.data
