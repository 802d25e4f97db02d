"""The sales report and the expiring list on PostgreSQL, against figures computed by hand.

The fixture puts certificates straight into the table, each with the dates that decide where it counts.
Period: 2024-12-01 .. 2025-03-31 (UTC days, both included), currency EUR.

    code  status    amount      created           activated           redeemed / expired / voided
    A     redeemed  EUR 50.00   2025-01-05 10:00  2025-01-05 10:00    redeemed 2025-01-15 10:00 (10 days)
    B     active    EUR 50.00   2025-01-20        2025-01-31 23:30    (still January in UTC)
    C     redeemed  EUR 100.00  2025-01-31 22:00  2025-02-01 00:00    redeemed 2025-02-21 00:00 (20 days)
    D     voided    EUR 25.00   2025-02-10        2025-02-10          voided 2025-02-12
    E     pending   EUR 75.00   2025-02-15        -
    F     expired   EUR 20.00   2024-11-20        2024-11-20          expired 2025-03-10 (created and paid before)
    G     active    USD 90.00   2025-03-01        2025-03-01          (another currency)
    H     active    EUR 50.00   2025-03-31 23:59  2025-04-01 00:00    (created in, paid after the period)
    I     active    EUR 100.00  2025-04-01 00:00  2025-04-01 00:00    (after the period)
    J     expired   EUR 30.00   2024-03-01        2024-03-01          expired 2025-04-01 00:00 (just after)
    K     redeemed  EUR 50.00   2025-03-10 12:00  2025-03-10 12:00    redeemed 2025-03-16 00:00 (5.5 days)
    L     expired   EUR 15.00   2025-01-10        2025-01-10          expired 2025-03-15
and, in another workspace, EUR 500.00 active and EUR 70.00 expired, both in the period, never counted.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.operations.reports import (
    AmountPopularity,
    ExpiringCertificate,
    MonthRevenue,
    SalesReport,
    expiring_certificates,
    sales_report,
)
from giftcert.store.certificates import CertificateRepository

pytestmark = pytest.mark.integration

START, END = date(2024, 12, 1), date(2025, 3, 31)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def certificate(
    workspace_id: str,
    label: str,
    status: Status,
    minor: int,
    *,
    created: str,
    activated: str | None = None,
    currency: str = "EUR",
    **dates: datetime | None,
) -> Certificate:
    """A certificate whose code ends in its label: `label` is the code's last characters."""
    activated_at = _at(activated) if activated else None
    return Certificate(
        id=uuid4(),
        workspace_id=workspace_id,
        status=status,
        amount=Amount(minor, currency),
        code=f"ZZZZZZZZZZZZ{label}"[-12:],
        channel="portal",
        segment=None,
        purchaser_name="Paul Purchaser",
        purchaser_email="paul@example.com",
        recipient_name="Rita Recipient",
        recipient_email=f"rita-{label.lower()}@example.com",
        message=None,
        expiry_days=365,
        created_at=_at(created),
        activated_at=activated_at,
        expires_at=activated_at + timedelta(days=365) if activated_at else None,
        payment_id=f"pay-{label}" if activated_at else None,
        balance_minor=minor if activated_at and status is not Status.REDEEMED else 0,  # full mode: the value
        **dates,
    )


def hand_computed_fixture(workspace_id: str) -> list[Certificate]:
    cert = partial(certificate, workspace_id)
    return [
        cert("A", Status.REDEEMED, 5000, created="2025-01-05T10:00", activated="2025-01-05T10:00",
             redeemed_at=_at("2025-01-15T10:00")),
        cert("B", Status.ACTIVE, 5000, created="2025-01-20T09:00", activated="2025-01-31T23:30"),
        cert("C", Status.REDEEMED, 10000, created="2025-01-31T22:00", activated="2025-02-01T00:00",
             redeemed_at=_at("2025-02-21T00:00")),
        cert("D", Status.VOIDED, 2500, created="2025-02-10T09:00", activated="2025-02-10T09:00",
             voided_at=_at("2025-02-12T09:00")),
        cert("E", Status.PENDING, 7500, created="2025-02-15T09:00"),
        cert("F", Status.EXPIRED, 2000, created="2024-11-20T09:00", activated="2024-11-20T09:00",
             expired_at=_at("2025-03-10T09:00")),
        cert("G", Status.ACTIVE, 9000, created="2025-03-01T09:00", activated="2025-03-01T09:00", currency="USD"),
        cert("H", Status.ACTIVE, 5000, created="2025-03-31T23:59:59", activated="2025-04-01T00:00"),
        cert("I", Status.ACTIVE, 10000, created="2025-04-01T00:00", activated="2025-04-01T00:00"),
        cert("J", Status.EXPIRED, 3000, created="2024-03-01T09:00", activated="2024-03-01T09:00",
             expired_at=_at("2025-04-01T00:00")),
        cert("K", Status.REDEEMED, 5000, created="2025-03-10T12:00", activated="2025-03-10T12:00",
             redeemed_at=_at("2025-03-16T00:00")),
        cert("L", Status.EXPIRED, 1500, created="2025-01-10T09:00", activated="2025-01-10T09:00",
             expired_at=_at("2025-03-15T09:00")),
    ]


def neighbour_fixture(workspace_id: str) -> list[Certificate]:
    """Another workspace's sales in the same period: they must never show in the fixture's report."""
    return [
        certificate(workspace_id, "A", Status.ACTIVE, 50000, created="2025-01-10T09:00", activated="2025-01-10T09:00"),
        certificate(workspace_id, "B", Status.EXPIRED, 7000, created="2025-01-10T09:00",
                    activated="2025-01-10T09:00", expired_at=_at("2025-02-10T09:00")),
    ]


async def insert(db: AsyncEngine, certificates: list[Certificate]) -> None:
    async with db.begin() as connection:
        repository = CertificateRepository(connection)
        for each in certificates:
            await repository.add(each)


async def _report(db: AsyncEngine, workspace_id: str, start: date = START, end: date = END) -> SalesReport:
    async with db.connect() as connection:
        return await sales_report(connection, workspace_id, start=start, end=end, currency="EUR")


@pytest.fixture
async def report(db: AsyncEngine, workspace: str) -> SalesReport:
    await insert(db, hand_computed_fixture(workspace))
    await insert(db, neighbour_fixture(f"{workspace}-next-door"))
    return await _report(db, workspace)


def test_revenue_is_counted_in_the_month_the_certificate_was_paid(report: SalesReport) -> None:
    assert report.revenue_by_month == [
        MonthRevenue(date(2024, 12, 1), 0, 0),  # F was paid in November: a month with no sales still shows
        MonthRevenue(date(2025, 1, 1), 3, 11500),  # A 5000 + B 5000 (23:30 UTC on the 31st) + L 1500
        MonthRevenue(date(2025, 2, 1), 2, 12500),  # C 10000 (created in January, paid 1 February) + D 2500
        MonthRevenue(date(2025, 3, 1), 1, 5000),  # K; G is USD, H was paid on 1 April
    ]


def test_certificates_created_in_the_period_are_counted_by_their_status_now(report: SalesReport) -> None:
    # created in the period: A B C D E G H K L (F, J before; I after)
    assert report.certificates_by_status == {
        "pending": 1,  # E
        "active": 3,  # B, G (USD counts: a count is no money figure), H
        "redeemed": 3,  # A, C, K
        "voided": 1,  # D
        "expired": 1,  # L
    }


def test_popular_amounts_count_certificates_paid_in_the_period_most_sold_first(report: SalesReport) -> None:
    # paid in the period, in EUR: A 5000, B 5000, L 1500, C 10000, D 2500, K 5000
    assert report.popular_amounts == [
        AmountPopularity(5000, 3),
        AmountPopularity(1500, 1),  # ties: the smaller amount first
        AmountPopularity(2500, 1),
        AmountPopularity(10000, 1),
    ]


def test_the_funnel_follows_the_certificates_created_in_the_period(report: SalesReport) -> None:
    assert report.created == 9  # A B C D E G H K L
    assert report.activated == 8  # all but E (H is paid after the period, but paid)
    assert report.redeemed == 3  # A, C, K


def test_redemption_rate_and_days_are_over_certificates_paid_in_the_period(report: SalesReport) -> None:
    # paid in the period, any currency: A B C D G K L = 7; of those redeemed: A (10 days), C (20), K (5.5)
    assert report.redemption_rate == pytest.approx(3 / 7)
    assert report.average_days_to_redemption == pytest.approx((10 + 20 + 5.5) / 3)


def test_outstanding_liability_is_every_active_certificate_now_whenever_sold(report: SalesReport) -> None:
    assert report.outstanding_liability_minor == 20000  # B 5000 + H 5000 + I 10000 (after the period); not G (USD)


def test_breakage_is_the_value_that_expired_in_the_period(report: SalesReport) -> None:
    assert report.breakage_minor == 3500  # F 2000 + L 1500; J expired at the first instant after the period


def test_the_report_says_what_it_covers(report: SalesReport, workspace: str) -> None:
    assert (report.workspace_id, report.currency, report.start, report.end) == (workspace, "EUR", START, END)


async def test_another_workspace_sees_only_its_own_sales(db: AsyncEngine, workspace: str) -> None:
    await insert(db, hand_computed_fixture(workspace))
    neighbour = f"{workspace}-next-door"
    await insert(db, neighbour_fixture(neighbour))
    seen = await _report(db, neighbour)
    assert [m.revenue_minor for m in seen.revenue_by_month] == [0, 57000, 0, 0]  # 50000 + 7000 in January
    assert seen.created == 2
    assert seen.certificates_by_status["active"] == 1
    assert seen.outstanding_liability_minor == 50000
    assert seen.breakage_minor == 7000


async def test_a_workspace_without_sales_reports_zeros(db: AsyncEngine, workspace: str) -> None:
    empty = await _report(db, workspace, date(2025, 1, 15), date(2025, 2, 14))
    assert empty.revenue_by_month == [MonthRevenue(date(2025, 1, 1), 0, 0), MonthRevenue(date(2025, 2, 1), 0, 0)]
    assert set(empty.certificates_by_status.values()) == {0}
    assert empty.popular_amounts == []
    assert (empty.created, empty.activated, empty.redeemed) == (0, 0, 0)
    assert empty.redemption_rate is None
    assert empty.average_days_to_redemption is None
    assert (empty.outstanding_liability_minor, empty.breakage_minor) == (0, 0)


async def test_only_the_five_most_popular_amounts_are_listed(db: AsyncEngine, workspace: str) -> None:
    counts = {1000: 1, 2000: 4, 3000: 2, 4000: 2, 5000: 3, 6000: 1}
    await insert(db, [
        certificate(workspace, f"{minor}{n}", Status.ACTIVE, minor, created="2025-05-05T10:00",
                    activated="2025-05-05T10:00")
        for minor, count in counts.items() for n in range(count)
    ])
    found = await _report(db, workspace, date(2025, 5, 1), date(2025, 5, 31))
    assert found.popular_amounts == [
        AmountPopularity(2000, 4), AmountPopularity(5000, 3), AmountPopularity(3000, 2), AmountPopularity(4000, 2),
        AmountPopularity(1000, 1),  # 6000 also sold once: the smaller amount wins the tie for fifth place
    ]


async def test_a_period_that_ends_before_it_starts_is_refused(db: AsyncEngine, workspace: str) -> None:
    with pytest.raises(ValueError, match="after it ends"):
        await _report(db, workspace, date(2025, 3, 1), date(2025, 2, 28))


async def test_a_one_day_period_covers_that_whole_utc_day(db: AsyncEngine, workspace: str) -> None:
    await insert(db, hand_computed_fixture(workspace))
    day = await _report(db, workspace, date(2025, 1, 31), date(2025, 1, 31))
    assert day.revenue_by_month == [MonthRevenue(date(2025, 1, 1), 1, 5000)]  # B at 23:30; C paid at midnight after
    assert day.created == 1  # C, created 22:00


NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _expiring(workspace_id: str, label: str, expires_at: datetime, status: Status = Status.ACTIVE,
              **fields: datetime) -> Certificate:
    made = certificate(workspace_id, label, status, 5000, created="2024-06-01T12:00", activated="2024-06-01T12:00")
    return replace(made, expires_at=expires_at, **fields)


async def _expiring_now(db: AsyncEngine, workspace_id: str, within_days: int = 30) -> list[ExpiringCertificate]:
    async with db.connect() as connection:
        return await expiring_certificates(connection, workspace_id, now=NOW, within_days=within_days)


async def test_expiring_lists_active_certificates_expiring_after_now_up_to_the_window_soonest_first(
    db: AsyncEngine, workspace: str
) -> None:
    window = timedelta(days=30)
    reminded = _expiring(workspace, "RMND", NOW + timedelta(days=10), expiring_soon_notified_at=NOW)
    first = _expiring(workspace, "FRST", NOW + timedelta(seconds=1))
    last = _expiring(workspace, "LAST", NOW + window)
    await insert(db, [
        _expiring(workspace, "GONE", NOW),  # expires at now: already past the window's open end
        last,
        _expiring(workspace, "LATE", NOW + window + timedelta(seconds=1)),
        reminded,
        first,
        _expiring(workspace, "VOID", NOW + timedelta(days=5), Status.VOIDED, voided_at=NOW),
        _expiring(workspace, "USED", NOW + timedelta(days=6), Status.REDEEMED, redeemed_at=NOW),
        _expiring(f"{workspace}-next-door", "NEXT", NOW + timedelta(days=3)),
    ])
    found = await _expiring_now(db, workspace)
    assert [e.certificate_id for e in found] == [first.id, reminded.id, last.id]
    assert [e.code_last4 for e in found] == ["FRST", "RMND", "LAST"]
    assert [e.reminded for e in found] == [False, True, False]
    assert found[0] == ExpiringCertificate(
        certificate_id=first.id, code_last4="FRST", amount_minor=5000, currency="EUR",
        recipient_email="rita-frst@example.com", expires_at=NOW + timedelta(seconds=1), reminded=False,
    )


async def test_expiring_never_returns_a_full_code(db: AsyncEngine, workspace: str) -> None:
    made = _expiring(workspace, "WXYZ", NOW + timedelta(days=1))
    await insert(db, [made])
    (found,) = await _expiring_now(db, workspace)
    assert made.code not in repr(found)
    assert found.code_last4 == "WXYZ"


async def test_expiring_with_a_zero_day_window_finds_nothing(db: AsyncEngine, workspace: str) -> None:
    await insert(db, [_expiring(workspace, "SOON", NOW + timedelta(minutes=1))])
    assert await _expiring_now(db, workspace, within_days=0) == []


async def test_expiring_refuses_a_negative_window(db: AsyncEngine, workspace: str) -> None:
    with pytest.raises(ValueError, match="within_days"):
        await _expiring_now(db, workspace, within_days=-1)

