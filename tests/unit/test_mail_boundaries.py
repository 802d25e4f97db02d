"""A certificate email's multipart boundaries are given by us before it is flattened (compose.py:
the generator would otherwise draw one and search the whole flattened text for it): each is of its
own email and level, and no part can hold one, whatever the customer wrote."""

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from uuid import uuid4

from giftcert.domain.money import Amount
from giftcert.mail.compose import compose_certificate_email
from giftcert.rendering.certificate_pdf import CertificateDocument

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def _received(message: str) -> EmailMessage:
    document = CertificateDocument(
        workspace_name="Alpine Tours", amount=Amount(5000, "EUR"), recipient_name="Rita Recipient",
        purchaser_name="Paul Purchaser", message=message, code="ABCDEFGHJKMN",
        expires_at=datetime(2027, 3, 5, tzinfo=UTC),
    )
    email = compose_certificate_email(
        document, mail_from="Alpine Tours <gifts@alpine-tours.example>", to_email="rita@example.com", pdf=PDF,
        certificate_id=uuid4(), sent_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_each_multipart_level_of_each_email_has_a_boundary_of_its_own() -> None:
    first, second = _received("Happy birthday!"), _received("Happy birthday!")

    boundaries = [
        part.get_boundary() for message in (first, second) for part in message.walk() if part.is_multipart()
    ]

    assert len(boundaries) == 4
    assert len(set(boundaries)) == 4
    assert all(b is not None and b.startswith("=_giftcert_") for b in boundaries)


def test_text_that_looks_like_a_boundary_stays_text_and_every_part_arrives_whole() -> None:
    message = "--=_giftcert_0123456789abcdef\n--==============1234567890==--\n=_giftcert_"

    received = _received(message)

    leaves = [part for part in received.walk() if not part.is_multipart()]
    assert [part.get_content_type() for part in leaves] == ["text/plain", "text/html", "application/pdf"]
    assert "--=_giftcert_0123456789abcdef" in leaves[0].get_content()
    assert leaves[2].get_content() == PDF
