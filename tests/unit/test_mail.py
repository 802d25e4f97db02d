"""Certificate and reminder emails as composed, and a real SMTP round trip through the local sink."""

import asyncio
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, message_from_string
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from uuid import UUID

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from pydantic import ValidationError

from giftcert.domain.money import Amount
from giftcert.mail.compose import compose_certificate_email, compose_reminder_email
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.mail.sink import MailFolderSink
from giftcert.mail.smtp import MailRejected, MailServerUnavailable, SmtpSession, SmtpSessions, send_email
from giftcert.rendering.certificate_pdf import CertificateDocument
from giftcert.settings import Settings

CODE = "ABCDEFGHJKMN"
SHOWN_CODE = "ABCD-EFGH-JKMN"
CERTIFICATE_ID = UUID("7b0c6f2e-3a4d-4c1e-9f5a-2d8e6b1c0a93")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + bytes(range(256)) + b"\n%%EOF\n"
EXPIRES = datetime(2027, 3, 5, 23, 59, tzinfo=UTC)
SENT_AT = datetime(2026, 12, 2, 9, 30, 15, tzinfo=UTC)


def _certificate_email(**changes: Any) -> OutgoingEmail:
    arguments: dict[str, Any] = {
        "mail_from": "Alpine Tours <gifts@alpine-tours.example>",
        "to_name": "Rita Recipient",
        "to_email": "rita@example.com",
        "purchaser_name": "Paul Purchaser",
        "workspace_name": "Alpine Tours",
        "amount": Amount(5000, "EUR"),
        "code": CODE,
        "expires_at": EXPIRES,
        "message": "Happy birthday!\nEnjoy the mountains.",
        "pdf": PDF,
        "certificate_id": CERTIFICATE_ID,
        "sent_at": SENT_AT,
    }
    return _composed(compose_certificate_email, arguments | changes)


_DOCUMENT_FIELDS = {
    "to_name": "recipient_name", "purchaser_name": "purchaser_name", "workspace_name": "workspace_name",
    "amount": "amount", "code": "code", "expires_at": "expires_at", "message": "message", "locale": "locale",
}


def _composed(compose: Any, arguments: dict[str, Any]) -> OutgoingEmail:
    """`compose` called with the document made of the fields it holds, and the rest by keyword."""
    document = CertificateDocument(**{"purchaser_name": "Paul Purchaser", "message": None} | {
        _DOCUMENT_FIELDS[k]: v for k, v in arguments.items() if k in _DOCUMENT_FIELDS
    })
    email: OutgoingEmail = compose(document, **{k: v for k, v in arguments.items() if k not in _DOCUMENT_FIELDS})
    return email


def _reminder_email(**changes: Any) -> OutgoingEmail:
    arguments: dict[str, Any] = {
        "mail_from": "Alpine Tours <gifts@alpine-tours.example>",
        "to_name": "Rita Recipient",
        "to_email": "rita@example.com",
        "workspace_name": "Alpine Tours",
        "amount": Amount(5000, "EUR"),
        "code": CODE,
        "expires_at": EXPIRES,
        "certificate_id": CERTIFICATE_ID,
        "sent_at": SENT_AT,
    }
    return _composed(compose_reminder_email, arguments | changes)


def _received(email: OutgoingEmail) -> EmailMessage:
    """The message as a mail client reads it: from its wire bytes."""
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _text(email: EmailMessage) -> str:
    body = email.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def _header_block(email: OutgoingEmail) -> str:
    return email.as_bytes().split(b"\r\n\r\n", 1)[0].decode("ascii")


# --- the certificate email ----------------------------------------------------------------------


def test_the_certificate_email_goes_to_the_recipient() -> None:
    email = _received(_certificate_email())
    (to,) = email["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Rita Recipient", "rita@example.com")
    (sender,) = email["From"].addresses
    assert sender.addr_spec == "gifts@alpine-tours.example"


def test_each_email_names_its_own_sender_when_senders_alternate() -> None:
    senders = ["Alpine Tours <gifts@alpine-tours.example>", "Coast Trips <hello@coast.example>"] * 2
    received = [_received(_certificate_email(mail_from=sender)) for sender in senders]
    assert [[a.addr_spec for a in r["From"].addresses] for r in received] == [
        ["gifts@alpine-tours.example"], ["hello@coast.example"], ["gifts@alpine-tours.example"], ["hello@coast.example"]
    ]
    assert [r["From"].addresses[0].display_name for r in received[:2]] == ["Alpine Tours", "Coast Trips"]


def test_the_certificate_email_has_a_subject_naming_the_workspace() -> None:
    assert _received(_certificate_email())["Subject"] == "Your gift certificate from Alpine Tours"


def test_the_certificate_email_tells_who_gave_what_and_until_when() -> None:
    text = _text(_received(_certificate_email()))
    assert "Hello Rita Recipient," in text
    assert "Paul Purchaser has given you a gift certificate of €50.00" in text
    assert "Valid until: March 5, 2027" in text
    assert "  Happy birthday!\n  Enjoy the mountains." in text


def test_the_pdf_is_attached_as_application_pdf_with_the_same_bytes() -> None:
    email = _received(_certificate_email())
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_content() == PDF
    filename = attachment.get_filename()
    assert filename is not None
    assert filename.endswith(".pdf")
    assert CODE not in filename


def test_the_message_id_is_stable_per_certificate() -> None:
    first, again = _received(_certificate_email()), _received(_certificate_email(message=None))
    assert first["Message-ID"] == again["Message-ID"]
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(first["Message-ID"]).strip())
    assert str(CERTIFICATE_ID) in first["Message-ID"]
    other = _received(_certificate_email(certificate_id=UUID("00000000-0000-4000-8000-000000000001")))
    assert other["Message-ID"] != first["Message-ID"]


def test_the_reminder_has_its_own_stable_message_id() -> None:
    reminder = _received(_reminder_email())
    assert reminder["Message-ID"] == _received(_reminder_email())["Message-ID"]
    assert reminder["Message-ID"] != _received(_certificate_email())["Message-ID"]


def test_the_code_appears_once_in_the_body_in_groups_of_four_and_nowhere_else() -> None:
    email = _received(_certificate_email())
    text = _text(email)
    assert [line for line in text.splitlines() if SHOWN_CODE in line] == [f"Your code: {SHOWN_CODE}"]
    assert text.count(SHOWN_CODE) == 1
    assert CODE not in text
    header_block = _header_block(_certificate_email())
    assert CODE not in header_block
    assert SHOWN_CODE not in header_block
    (attachment,) = list(email.iter_attachments())
    for name, value in attachment.items():
        assert CODE not in value, name
        assert SHOWN_CODE not in value, name


def test_the_reminder_shows_the_code_once_and_not_in_its_headers() -> None:
    reminder = _reminder_email()
    assert [line for line in _text(_received(reminder)).splitlines() if SHOWN_CODE in line] == [
        f"Your code: {SHOWN_CODE}"
    ]
    assert CODE not in _header_block(reminder)
    assert SHOWN_CODE not in _header_block(reminder)


INJECTIONS = [
    "Rita\r\nBcc: eve@attacker.example",
    "Rita\nBcc: eve@attacker.example",
    "Rita\rBcc: eve@attacker.example",
    "Rita\r\n\r\nInjected body",
    "Rita\x00\x0bBcc: eve@attacker.example",
    "Rita\tBcc: eve@attacker.example",
]
UNICODE_LINE_BREAKS = ["Rita\x85Bcc: eve@attacker.example", "Rita\u2028Bcc: eve@attacker.example", "Rita\u2029Bcc: x"]


def _header_names(email: OutgoingEmail) -> list[str]:
    return [line.split(":", 1)[0] for line in _header_block(email).split("\r\n") if not line[:1].isspace()]


def _assert_no_extra_header(email: OutgoingEmail, baseline: OutgoingEmail) -> None:
    assert _header_names(email) == _header_names(baseline), _header_block(email)
    received = _received(email)
    assert list(received.keys()) == list(_received(baseline).keys())
    assert "Bcc" not in received
    assert [part.get_content_type() for part in received.walk()] == [
        part.get_content_type() for part in _received(baseline).walk()
    ]


@pytest.mark.parametrize("field", ["to_name", "purchaser_name", "workspace_name"])
@pytest.mark.parametrize("text", INJECTIONS, ids=repr)
def test_line_breaks_in_names_never_add_a_header_to_the_certificate_email(field: str, text: str) -> None:
    email = _certificate_email(**{field: text})
    _assert_no_extra_header(email, _certificate_email())
    (to,) = _received(email)["To"].addresses
    assert to.addr_spec == "rita@example.com"


@pytest.mark.parametrize("field", ["to_name", "workspace_name"])
@pytest.mark.parametrize("text", INJECTIONS, ids=repr)
def test_line_breaks_in_names_never_add_a_header_to_the_reminder(field: str, text: str) -> None:
    _assert_no_extra_header(_reminder_email(**{field: text}), _reminder_email())


@pytest.mark.parametrize("field", ["to_name", "purchaser_name", "workspace_name"])
@pytest.mark.parametrize("text", UNICODE_LINE_BREAKS, ids=repr)
def test_a_name_with_a_unicode_line_break_still_gives_an_email_without_extra_headers(field: str, text: str) -> None:
    # Name (fields.py) lets U+0085, U+2028 and U+2029 through, and the workspace name is not checked at all.
    email = _certificate_email(**{field: text})
    _assert_no_extra_header(email, _certificate_email())


def test_a_name_with_line_breaks_is_shown_on_one_line() -> None:
    email = _received(_certificate_email(to_name="Rita\r\nBcc: eve@attacker.example", workspace_name="Alpine\nTours"))
    (to,) = email["To"].addresses
    assert "\n" not in to.display_name
    assert "\r" not in to.display_name
    assert "\n" not in email["Subject"]
    assert email["Subject"].endswith("Alpine Tours")
    assert to.addr_spec == "rita@example.com"


# --- SMTP: the sink and the sender --------------------------------------------------------------


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailFolderSink]:
    with MailFolderSink(tmp_path / "mail") as running:
        yield running


async def test_a_sent_email_arrives_in_the_sink_folder_as_an_eml_file(sink: MailFolderSink) -> None:
    await send_email(_certificate_email(), host=sink.host, port=sink.port, timeout=10)

    (eml,) = sink.folder.glob("*.eml")
    assert not [p for p in sink.folder.iterdir() if p.name.startswith(".")], "a partial file was left behind"
    assert f"certificate-{CERTIFICATE_ID}" in eml.name, "the file is named after the (folded) Message-ID"
    received = message_from_bytes(eml.read_bytes(), policy=default)
    assert isinstance(received, EmailMessage)
    assert str(received["Message-ID"]).strip() == f"<certificate-{CERTIFICATE_ID}@giftcert.invalid>"
    assert [a.addr_spec for a in received["To"].addresses] == ["rita@example.com"]
    assert received["Subject"] == "Your gift certificate from Alpine Tours"
    assert f"Your code: {SHOWN_CODE}" in _text(received)
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


async def test_every_sent_email_becomes_its_own_file(sink: MailFolderSink) -> None:
    await send_email(_certificate_email(), host=sink.host, port=sink.port, timeout=10)
    await send_email(_reminder_email(), host=sink.host, port=sink.port, timeout=10)
    files = sorted(sink.folder.glob("*.eml"))
    assert len(files) == 2
    ids = {str(message_from_bytes(f.read_bytes(), policy=default)["Message-ID"]).strip() for f in files}
    assert ids == {f"<certificate-{CERTIFICATE_ID}@giftcert.invalid>", f"<reminder-{CERTIFICATE_ID}@giftcert.invalid>"}


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (b"Message-ID: <plain@example.com>", "plain_example.com"),
        (b"message-id:\r\n <folded-lower@example.com>", "folded-lower_example.com"),
        (b"MESSAGE-ID :\t<spaced@example.com>", "spaced_example.com"),
        (b"X-Message-ID: <not-this@example.com>", "no-id"),
    ],
)
async def test_the_sink_names_each_file_after_the_message_id_header_in_any_case_and_folded(
    sink: MailFolderSink, header: bytes, named: str
) -> None:
    raw = b"From: a@example.com\r\nTo: b@example.com\r\n" + header + b"\r\nSubject: hi\r\n\r\nMessage-ID: <body@x>\r\n"
    async with aiosmtplib.SMTP(hostname=sink.host, port=sink.port, timeout=10) as client:
        await client.sendmail("a@example.com", ["b@example.com"], raw)

    (eml,) = sink.folder.glob("*.eml")
    assert eml.name.endswith(f"-{named}.eml")
    assert eml.read_bytes().replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n"), "the message is kept whole"


async def test_a_refused_connection_is_mail_server_unavailable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))  # bound but not listening: connecting is refused
        port = closed.getsockname()[1]
        with pytest.raises(MailServerUnavailable):
            await send_email(_certificate_email(), host="127.0.0.1", port=port, timeout=5)


class _Refusing:
    def __init__(self, stage: str, reply: str) -> None:
        self.stage = stage
        self.reply = reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        del server, session, options
        if self.stage == "RCPT":
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        del server, session, envelope
        return self.reply if self.stage == "DATA" else "250 OK"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("stage", "reply", "error"),
    [
        ("RCPT", "550 5.1.1 No such user", MailRejected),
        ("RCPT", "451 4.3.0 Try again later", MailServerUnavailable),
        ("DATA", "554 5.7.1 Rejected as spam", MailRejected),
        ("DATA", "452 4.3.1 Insufficient storage", MailServerUnavailable),
    ],
)
async def test_a_5xx_refusal_is_permanent_and_a_4xx_refusal_is_transient(
    stage: str, reply: str, error: type[Exception]
) -> None:
    controller = Controller(_Refusing(stage, reply), hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        with pytest.raises(error) as raised:
            await send_email(_certificate_email(), host="127.0.0.1", port=controller.port, timeout=10)
    finally:
        controller.stop()
    assert reply.split(maxsplit=1)[0] in str(raised.value)


@pytest.mark.parametrize(
    ("security", "use_tls", "start_tls"), [("none", False, False), ("starttls", False, True), ("tls", True, False)]
)
async def test_the_smtp_security_setting_chooses_plain_starttls_or_tls_and_passes_the_login(
    monkeypatch: pytest.MonkeyPatch, security: str, use_tls: bool, start_tls: bool
) -> None:
    seen: dict[str, object] = {}

    async def record(message: object, **options: object) -> None:
        seen.update(options)

    monkeypatch.setattr("giftcert.mail.smtp.aiosmtplib.send", record)
    await send_email(
        _certificate_email(), host="mail.example", port=587, security=security,  # type: ignore[arg-type]
        username="giftcert", password="s3cret",  # noqa: S106 - a test value
    )
    assert (seen["use_tls"], seen["start_tls"]) == (use_tls, start_tls)
    assert (seen["username"], seen["password"]) == ("giftcert", "s3cret")


# --- the reminder's content and an operator's resend ---------------------------------------------


def test_the_reminder_tells_the_amount_the_workspace_and_the_expiry_date_and_has_no_attachment() -> None:
    reminder = _received(_reminder_email())
    assert reminder["Subject"] == "Your gift certificate expires on March 5, 2027"
    (to,) = reminder["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Rita Recipient", "rita@example.com")
    text = _text(reminder)
    assert "Hello Rita Recipient," in text
    assert "Your gift certificate of €50.00 for Alpine Tours expires on March 5, 2027." in text
    assert not list(reminder.iter_attachments())


def test_a_name_with_line_breaks_is_shown_on_one_line_in_the_reminder() -> None:
    reminder = _received(_reminder_email(to_name="Rita\r\nBcc: eve@attacker.example", workspace_name="Alpine\nTours"))
    (to,) = reminder["To"].addresses
    assert "\n" not in to.display_name
    assert to.addr_spec == "rita@example.com"
    assert "for Alpine Tours expires" in _text(reminder)


def test_a_resend_has_a_message_id_of_its_own_naming_the_certificate() -> None:
    first = _received(_certificate_email())
    resend_id = UUID("00000000-0000-4000-8000-0000000000aa")
    resent = _received(_certificate_email(resend_id=resend_id))
    again = _received(_certificate_email(resend_id=UUID("00000000-0000-4000-8000-0000000000bb")))
    assert len({first["Message-ID"], resent["Message-ID"], again["Message-ID"]}) == 3
    assert str(resent["Message-ID"]).strip() == f"<certificate-{CERTIFICATE_ID}-resend-{resend_id}@giftcert.invalid>"
    assert _text(resent) == _text(first)


class _CountingSessions(_Refusing):
    """Accepts everything and counts the SMTP sessions (one EHLO each)."""

    def __init__(self) -> None:
        super().__init__("none", "250 OK")
        self.sessions = 0
        self.messages = 0

    async def handle_EHLO(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        del server, envelope
        session.host_name = hostname
        self.sessions += 1
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        del server, session, envelope
        self.messages += 1
        return "250 OK"


async def test_a_session_sends_email_after_email_over_one_connection() -> None:
    counting = _CountingSessions()
    controller = Controller(counting, hostname="127.0.0.1", port=_free_port())
    controller.start()
    session = SmtpSession(host="127.0.0.1", port=controller.port, timeout=10)
    try:
        for _ in range(5):
            await session.send(_certificate_email())
    finally:
        await session.close()
        controller.stop()
    assert (counting.sessions, counting.messages) == (1, 5)


async def test_a_session_whose_server_dropped_the_connection_sends_on_a_new_one(tmp_path: Path) -> None:
    port = _free_port()
    session = SmtpSession(host="127.0.0.1", port=port, timeout=10)
    try:
        with MailFolderSink(tmp_path / "first", port=port):
            await session.send(_certificate_email())
        with MailFolderSink(tmp_path / "second", port=port) as restarted:
            await session.send(_reminder_email())
            assert len(list(restarted.folder.glob("*.eml"))) == 1
    finally:
        await session.close()


async def test_a_session_refused_for_good_raises_mail_rejected_and_recovers_for_the_next() -> None:
    controller = Controller(_Refusing("RCPT", "550 5.1.1 No such user"), hostname="127.0.0.1", port=_free_port())
    controller.start()
    session = SmtpSession(host="127.0.0.1", port=controller.port, timeout=10)
    try:
        for _ in range(2):
            with pytest.raises(MailRejected):
                await session.send(_certificate_email())
    finally:
        await session.close()
        controller.stop()


async def test_emails_given_at_once_go_out_side_by_side_on_a_few_kept_connections() -> None:
    counting = _CountingSessions()
    controller = Controller(counting, hostname="127.0.0.1", port=_free_port())
    controller.start()
    sessions = SmtpSessions(3, host="127.0.0.1", port=controller.port, timeout=10)
    try:
        for _ in range(2):
            await asyncio.gather(*(sessions.send(_certificate_email()) for _ in range(6)))
    finally:
        controller.stop()
    assert (counting.sessions, counting.messages) == (3, 12)


# --- text in any script, written by the email package ------------------------------------------------------


def test_names_and_a_workspace_in_any_script_read_back_as_written() -> None:
    email = _certificate_email(
        to_name="Zoë Ålander-Øster", purchaser_name="王小明", workspace_name="Öko-Reisen Zürich & Co.",
        mail_from="Öko-Reisen <gifts@oeko.example>",
    )
    received = _received(email)
    (to,) = received["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Zoë Ålander-Øster", "rita@example.com")
    assert received["From"].addresses[0].display_name == "Öko-Reisen"
    assert received["Subject"] == "Your gift certificate from Öko-Reisen Zürich & Co."
    assert "王小明 has given you a gift certificate" in _text(received)
    _header_block(email)  # ASCII: the names went as encoded words, the addresses are ASCII
    assert not email.smtputf8


def test_a_long_subject_is_folded_and_reads_back_whole() -> None:
    workspace = "Alpine Tours and Mountain Adventures of the Northern Valleys " * 3
    email = _certificate_email(workspace_name=workspace.strip())
    subject = _header_block(email).split("Subject: ", 1)[1].split("\r\nMessage-ID", 1)[0]
    assert len(subject.split("\r\n")) > 1
    assert max(len(line) for line in f"Subject: {subject}".split("\r\n")) <= 78
    assert _received(email)["Subject"] == f"Your gift certificate from {workspace.strip()}"


@pytest.mark.parametrize(
    "message",
    ["Grüße aus München! ☀️\nBis bald.", "x" * 300, "trailing blanks   \nand\ttabs", "=?utf-8?q?not_a_word?= =3D",
     "--=_0123 looks like a boundary\n.\n..a dot line"],
)
def test_the_personal_message_reads_back_as_written(message: str) -> None:
    text = _text(_received(_certificate_email(message=message)))
    assert "\n".join(f"  {line}" for line in message.splitlines()) in text
    (attachment,) = list(_received(_certificate_email(message=message)).iter_attachments())
    assert attachment.get_content() == PDF


async def test_an_internationalised_address_goes_out_with_smtputf8_and_arrives_as_written(
    sink: MailFolderSink,
) -> None:
    message = "Grüße aus München!\nBis bald."
    email = _certificate_email(to_name="Jürgen", to_email="jürgen@bücher.example", message=message)
    assert email.smtputf8
    await send_email(email, host=sink.host, port=sink.port, timeout=10)
    (eml,) = sink.folder.glob("*.eml")
    received = message_from_string(eml.read_bytes().decode(), policy=default)  # UTF-8 headers (RFC 6532)
    (to,) = received["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Jürgen", "jürgen@bücher.example")
    assert "  Grüße aus München!\n  Bis bald." in _text(received)
    (attachment,) = list(received.iter_attachments())
    assert attachment.get_content() == PDF


async def test_an_internationalised_address_to_a_server_without_smtputf8_is_rejected_for_good() -> None:
    counting = _CountingSessions()
    controller = Controller(counting, hostname="127.0.0.1", port=_free_port(), enable_SMTPUTF8=False)
    controller.start()
    session = SmtpSession(host="127.0.0.1", port=controller.port, timeout=10)
    try:
        with pytest.raises(MailRejected, match="internationalised"):
            await session.send(_certificate_email(to_email="jürgen@bücher.example"))
        await session.send(_certificate_email())  # the next email still goes
        with pytest.raises(MailRejected, match="internationalised"):
            await send_email(_certificate_email(to_email="jürgen@bücher.example"), host="127.0.0.1",
                             port=controller.port, timeout=10)
    finally:
        await session.close()
        controller.stop()
    assert counting.messages == 1


@pytest.mark.parametrize("address", ["rita@example.com, eve@attacker.example", "Eve <eve@x.example>", "no-at-sign", ""])
def test_a_recipient_that_is_not_one_address_is_refused_before_anything_is_sent(address: str) -> None:
    with pytest.raises(ValueError, match="not an email address"):
        _certificate_email(to_email=address)


@pytest.mark.parametrize("mail_from", ["Gift certificates", "Gifts <gifts@example.com>, Eve <eve@x.example>"])
def test_a_mail_from_setting_that_names_no_single_address_is_refused_at_start(mail_from: str) -> None:
    with pytest.raises(ValidationError, match="mail_from"):
        Settings(mail_from=mail_from)
    assert Settings(mail_from="Alpine Tours <gifts@alpine-tours.example>").mail_from  # a real one passes


def test_every_email_is_dated_when_it_is_composed_by_the_callers_clock() -> None:
    for email in (_certificate_email(), _reminder_email()):
        assert _received(email)["Date"].datetime == SENT_AT
    later = SENT_AT + timedelta(days=1)
    assert _received(_certificate_email(sent_at=later))["Date"].datetime == later


def test_an_email_written_in_a_log_line_shows_its_envelope_and_never_the_code() -> None:
    shown = f"{_certificate_email()!r} {_reminder_email()!r}"
    assert "rita@example.com" in shown
    assert CODE not in shown
    assert SHOWN_CODE not in shown
