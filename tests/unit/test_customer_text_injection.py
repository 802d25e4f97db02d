"""Customer text that tries to be markup or headers: it must print, or be refused, never be interpreted.

Names and the personal message come from the purchase request (contract `Name`, `PersonalMessage`) and
reach two interpreters: reportlab, whose Paragraph markup would obey `<font size=80>` or load an
`<img src="/etc/passwd"/>`, and email headers, where a CR/LF would start a `Bcc:` of the attacker's.
These tests take the text the whole way: accepted by the contract, onto the certificate, through
`certificate_document` into the PDF (read back by PDFium) and into the composed email."""

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pypdf import PdfReader

from giftcert.delivery.certificate_document import certificate_document
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.mail.compose import compose_certificate_email
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.rendering.certificate_pdf import CertificateDocument, render_certificate_pdf
from giftcert.settings import Settings
from giftcert_contracts.inbound import PurchaseRequested
from giftcert_services.integrator import requests
from tests.pdf_text import Line, lines

pytestmark = pytest.mark.reliability

CODE = "ABCDEFGHJKMN"
CERTIFICATE_ID = UUID("7b0c6f2e-3a4d-4c1e-9f5a-2d8e6b1c0a93")
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
MARKUP = [
    "<b>bold</b>",
    "<font size=80>HUGE</font>",
    '<font name="Courier" color="red">red</font>',
    "<para>para</para>",
    "&amp; &lt;b&gt; &#60;i&#62;",
    '<img src="/etc/passwd"/>',
    '<img src="/etc/passwd" width="500" height="500"/>',
    '<a href="https://evil.example/">link</a>',
    "<link href='javascript:alert(1)'>js</link>",
    "<br/><super>up</super><sub>down</sub>",
    "<onDraw name=evil label=x/>",
    "<seq id=x/><index item='x'/>",
]


@dataclass(frozen=True)
class Page:
    lines: list[Line]
    resources: Any
    annotations: Any

    @property
    def strings(self) -> list[str]:
        return [line.text for line in self.lines]

    @property
    def message(self) -> list[str]:
        """The personal message's lines: between the names and the QR code's caption."""
        return [line.text for line in self.lines if 230 < line.y < 842 - 359]


def _page(pdf: bytes) -> Page:
    """Every line the page shows as PDFium reads it, at which size, and what else the page holds."""
    reader = PdfReader(io.BytesIO(pdf))
    (page,) = reader.pages
    return Page(lines(pdf), page["/Resources"], page.get("/Annots"))


def _xobjects_other_than_the_frame(page: Page) -> list[str]:
    return [str(x["/Subtype"]) for x in page.resources.get("/XObject", {}).values() if x["/Subtype"] != "/Form"]


def _purchase(**fields: Any) -> PurchaseRequested:
    """A purchase request as the contract accepts it (it would be dead-lettered otherwise)."""
    return PurchaseRequested.model_validate(requests.purchase("ws-injection", **fields))


def _certificate(request: PurchaseRequested) -> Certificate:
    """The certificate the ledger makes of `request`, activated (only those have a PDF)."""
    return Certificate(
        id=request.certificate_id, workspace_id=request.workspace_id, status=Status.ACTIVE,
        amount=Amount.of(request.amount), code=CODE, channel=request.channel, segment=None,
        purchaser_name=request.purchaser.name, purchaser_email=request.purchaser.email,
        recipient_name=request.recipient.name, recipient_email=request.recipient.email,
        message=request.message, expiry_days=365, created_at=NOW, activated_at=NOW,
        expires_at=datetime(2027, 11, 23, 10, tzinfo=UTC), payment_id="pay-1",
    )


def _pdf_of(*, recipient: str, purchaser: str, message: str | None, workspace_name: str = "Alpine Tours") -> bytes:
    request = _purchase(
        recipient={"name": recipient, "email": "robin@example.com"},
        purchaser={"name": purchaser, "email": "pat@example.com"},
        message=message,
    )
    workspace = WorkspaceSettings(workspace_id="ws-injection", name=workspace_name)
    return render_certificate_pdf(certificate_document(_certificate(request), workspace))


PLAIN_PDF = _pdf_of(recipient="Rita", purchaser="Paul", message="Hello there")
PLAIN = _page(PLAIN_PDF)


@pytest.mark.parametrize("markup", MARKUP)
def test_reportlab_markup_in_names_and_message_prints_literally_through_the_whole_path(
    markup: str, reliability: Any
) -> None:
    reliability.record("reportlab markup in names and message", injected=1,
                       invariants=["printed literally", "same fonts and sizes", "no image, link or annotation"])
    pdf = _pdf_of(recipient=f"Rita {markup}", purchaser=f"Paul {markup}", message=f"Hello {markup} there",
                  workspace_name=f"Tours {markup}")
    page = _page(pdf)
    assert f"To Rita {markup}" in page.strings
    assert f"From Paul {markup}" in page.strings
    assert " ".join(page.message).split() == f"Hello {markup} there".split()
    assert f"Tours {markup}" in page.strings
    # nothing else happened: the same lines at the same sizes, no image, link or annotation
    assert len(page.lines) == len(PLAIN.lines)
    assert max(line.size for line in page.lines) == max(line.size for line in PLAIN.lines)
    assert page.resources["/Font"].keys() == PLAIN.resources["/Font"].keys()
    assert _xobjects_other_than_the_frame(page) == []
    assert page.annotations is None
    for needle in (b"/URI", b"/JavaScript", b"/Link", b"/Image", b"/Annot", b"/Launch", b"root:"):
        assert pdf.count(needle) == PLAIN_PDF.count(needle), needle  # `/ImageB` etc. of the ProcSet only


latin_1_markup = st.lists(
    st.one_of(
        st.sampled_from(["<", ">", "&", ";", "/", "=", '"', "'", "#", " "]),
        st.sampled_from(["b", "i", "u", "font", "para", "img", "a", "br", "strike", "span", "size=80", "src=",
                         "/etc/passwd", "amp", "lt", "#60", "href=", "color=red", "name=Courier"]),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    ),
    min_size=1,
    max_size=60,
).map("".join).filter(lambda s: s.strip() == s and s.strip())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=latin_1_markup, message=latin_1_markup)
def test_any_tag_soup_in_a_name_or_message_is_drawn_as_the_same_text(name: str, message: str) -> None:
    page = _page(_pdf_of(recipient=name, purchaser=name, message=message))
    shown = [" ".join(s.split()) for s in page.strings]  # PDFium reads a run of spaces as one
    assert " ".join(f"To {name}".split()) in shown
    assert " ".join(f"From {name}".split()) in shown
    assert "".join("".join(page.message).split()) == "".join(message.split())  # a long word may break
    assert len(page.lines) - len(page.message) == len(PLAIN.lines) - len(PLAIN.message)  # a message may wrap
    assert _xobjects_other_than_the_frame(page) == []


# --- email headers ------------------------------------------------------------------------------

LINE_BREAK_NAMES = [
    "x\r\nBcc: evil@example.com",
    "x\nBcc: evil@example.com",
    "x\rBcc: evil@example.com",
    "x\u2028Bcc: evil@example.com",
    "x\u0085Bcc: evil@example.com",
    "x\r\n\r\nInjected body",
]


@pytest.mark.parametrize("name", LINE_BREAK_NAMES, ids=repr)
@pytest.mark.parametrize("person", ["purchaser", "recipient"])
def test_a_name_with_a_line_break_is_refused_by_the_contract(name: str, person: str, reliability: Any) -> None:
    reliability.record("CR/LF header injection in a name", injected=1, invariants=["refused by the contract"])
    with pytest.raises(ValidationError) as refused:
        _purchase(**{person: {"name": name, "email": "p@example.com"}})
    assert [e["loc"] for e in refused.value.errors()] == [(person, "name")]


def _email(**changes: Any) -> OutgoingEmail:
    arguments: dict[str, Any] = {
        "mail_from": "Alpine Tours <gifts@alpine-tours.example>",
        "to_name": "Rita Recipient", "to_email": "rita@example.com", "purchaser_name": "Paul Purchaser",
        "workspace_name": "Alpine Tours", "amount": Amount(5000, "EUR"), "code": CODE,
        "expires_at": datetime(2027, 3, 5, tzinfo=UTC), "message": "Hello", "pdf": b"%PDF-1.4\n%%EOF\n",
        "certificate_id": CERTIFICATE_ID, "sent_at": datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
    }
    arguments |= changes
    document = CertificateDocument(
        recipient_name=arguments.pop("to_name"), purchaser_name=arguments.pop("purchaser_name"),
        workspace_name=arguments.pop("workspace_name"), amount=arguments.pop("amount"), code=arguments.pop("code"),
        expires_at=arguments.pop("expires_at"), message=arguments.pop("message"),
    )
    return compose_certificate_email(document, **arguments)


def _received(email: OutgoingEmail) -> EmailMessage:
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _header_names(email: OutgoingEmail) -> list[str]:
    block = email.as_bytes().split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0] for line in block.split("\r\n") if not line[:1].isspace()]


def _body(email: EmailMessage) -> str:
    part = email.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.mark.parametrize("text", LINE_BREAK_NAMES, ids=repr)
@pytest.mark.parametrize("field", ["to_name", "purchaser_name", "workspace_name"])
def test_a_line_break_that_reaches_the_composer_anyway_adds_no_header_or_recipient(
    field: str, text: str, reliability: Any
) -> None:
    """Behind the contract, the composer holds on its own: a text with a line break that came another
    way (a caller that skipped validation) is written on one line."""
    reliability.record("CR/LF header injection behind the contract", injected=1,
                       invariants=["no header added", "one recipient, the right one"])
    email = _email(**{field: text})
    assert _header_names(email) == _header_names(_email())
    received = _received(email)
    assert "Bcc" not in received
    (to,) = received["To"].addresses
    assert to.addr_spec == "rita@example.com"


@pytest.mark.parametrize("text", LINE_BREAK_NAMES, ids=repr)
def test_a_mail_from_with_a_line_break_and_more_after_it_is_refused_before_any_email(
    text: str, reliability: Any
) -> None:
    """GIFTCERT_MAIL_FROM is not customer text but gets the same care: on one line, the text after
    the break is a second mailbox or no address, and the sender must be exactly one."""
    reliability.record("CR/LF header injection behind the contract", injected=1,
                       invariants=["refused: no email written", "refused at start"])
    mail_from = f"Tours <gifts@tours.example>{text}"
    with pytest.raises(ValueError, match="not one email address"):
        _email(mail_from=mail_from)
    with pytest.raises(ValidationError, match="mail_from"):
        Settings(mail_from=mail_from)


HEADER_LOOKALIKES = [
    "x Bcc: evil@example.com",
    "Bcc: evil@example.com",
    "Rita <evil@example.com>",
    "Rita, Bob <evil@example.com>",
    'Rita" <evil@example.com>, "Bob',
    "=?utf-8?q?Bcc=3A_evil=40example=2Ecom?=",
    "Rita; Cc: evil@example.com",
]


@pytest.mark.parametrize("name", HEADER_LOOKALIKES)
def test_header_text_in_a_name_without_a_line_break_shows_literally_and_adds_no_header_or_recipient(
    name: str, reliability: Any
) -> None:
    reliability.record("header look-alike text in names", injected=1,
                       invariants=["shown literally", "no header added", "one recipient, the right one"])
    request = _purchase(recipient={"name": name, "email": "rita@example.com"},
                        purchaser={"name": name, "email": "pat@example.com"})  # the contract accepts it
    email = _email(to_name=request.recipient.name, purchaser_name=request.purchaser.name)
    assert _header_names(email) == _header_names(_email())
    received = _received(email)
    assert "Bcc" not in received
    assert "Cc" not in received
    (to,) = received["To"].addresses
    assert to.addr_spec == "rita@example.com"
    # a name that looks like an RFC 2047 encoded word would be decoded into header text: left out
    assert to.display_name == ("" if "=?" in name else name)
    body = _body(received)
    assert f"Hello {name}," in body
    assert f"{name} has given you a gift certificate" in body


@settings(max_examples=100, deadline=None)
@given(name=st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                    max_size=60).filter(lambda s: s.strip() == s and s.strip()))
def test_any_name_the_contract_accepts_reads_back_as_written_to_one_recipient_with_the_same_headers(name: str) -> None:
    try:
        request = _purchase(recipient={"name": name, "email": "rita@example.com"})
    except ValidationError:
        return
    email = _email(to_name=request.recipient.name, purchaser_name=name, workspace_name=name)
    assert _header_names(email) == _header_names(_email())
    received = _received(email)
    (to,) = received["To"].addresses
    assert to.addr_spec == "rita@example.com"
    # the name as written, but for its spaces: Python's address parser folds a run of spaces in an
    # encoded word into one, and keeps the space between two encoded words that RFC 2047 (6.2) drops
    assert "".join(to.display_name.split()) == ("" if "=?" in name else "".join(name.split()))
    assert received["Subject"] == f"Your gift certificate from {name}"
    assert f"Hello {name}," in _body(received)
