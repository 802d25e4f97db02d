"""The sales report PDF, read back with pypdf: what the page says and which bars its charts draw.

Each chart fills its bars in a colour of its own, so the bars of one chart are the filled rectangles
of that colour; a bar of value zero has no height and is not counted as drawn."""

import io
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.lib.colors import Color

from giftcert.domain.reports import AmountPopularity, MonthRevenue, SalesReport
from giftcert.rendering.sales_report_pdf import (
    AMOUNT_BAR,
    FUNNEL_BAR,
    REVENUE_BAR,
    STATUS_BAR,
    render_sales_report_pdf,
)
from tests.pdf_text import lines

TITLES = ("Revenue per month (EUR)", "Certificates by status", "Most popular amounts", "Redemption funnel")
REPORT = SalesReport(
    workspace_id="ws-alpine",
    currency="EUR",
    start=date(2025, 1, 1),
    end=date(2025, 4, 30),
    revenue_by_month=[
        MonthRevenue(date(2025, 1, 1), 2, 15000),
        MonthRevenue(date(2025, 2, 1), 0, 0),
        MonthRevenue(date(2025, 3, 1), 3, 20000),
        MonthRevenue(date(2025, 4, 1), 1, 5000),
    ],
    certificates_by_status={"pending": 1, "active": 3, "redeemed": 2, "voided": 0, "expired": 1},
    popular_amounts=[AmountPopularity(5000, 3), AmountPopularity(10000, 2), AmountPopularity(2500, 1)],
    created=7,
    activated=6,
    redeemed=2,
    redemption_rate=2 / 6,
    average_days_to_redemption=12.5,
    outstanding_liability_minor=123450,
    breakage_minor=5000,
    liability_by_kind={"purchased": 100000, "promotional": 20000, "credit": 3450},
    breakage_by_kind={"purchased": 4000, "promotional": 1000, "credit": 0},
    redeemed_value_minor=60000,
    redemption_count=7,
    redeemed_value_by_kind={"purchased": 55000, "promotional": 5000, "credit": 0},
    redemption_count_by_kind={"purchased": 6, "promotional": 1, "credit": 0},
    refunded_value_minor=2500,
    refund_count=2,
)
EMPTY = replace(
    REPORT,
    revenue_by_month=[MonthRevenue(date(2025, m, 1), 0, 0) for m in range(1, 5)],
    certificates_by_status=dict.fromkeys(("pending", "active", "redeemed", "voided", "expired"), 0),
    popular_amounts=[],
    created=0,
    activated=0,
    redeemed=0,
    redemption_rate=None,
    average_days_to_redemption=None,
    outstanding_liability_minor=0,
    breakage_minor=0,
)


def _reader(report: SalesReport) -> PdfReader:
    return PdfReader(io.BytesIO(render_sales_report_pdf(report, workspace_name="Alpine Tours")))


def _text(report: SalesReport) -> str:
    return "\n".join(line.text for line in lines(render_sales_report_pdf(report, workspace_name="Alpine Tours")))


def _bars_by_colour(report: SalesReport) -> Counter[tuple[float, float, float]]:
    """Filled rectangles with an area, counted by the fill colour they are drawn in."""
    reader = _reader(report)
    bars: Counter[tuple[float, float, float]] = Counter()
    for page in reader.pages:
        fill = (0.0, 0.0, 0.0)
        pending: list[tuple[float, float]] = []
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"rg":
                red, green, blue = (round(float(v), 3) for v in operands)
                fill = (red, green, blue)
            elif operator == b"re":
                pending.append((float(operands[2]), float(operands[3])))
            elif operator in {b"f", b"f*", b"B", b"B*"}:
                bars[fill] += sum(1 for width, height in pending if abs(width) > 0 and abs(height) > 0)
                pending = []
            elif operator in {b"S", b"n"}:
                pending = []
    return bars


def _bars(report: SalesReport, colour: Color) -> int:
    red, green, blue = (round(float(v), 3) for v in colour.rgb())
    return _bars_by_colour(report)[red, green, blue]


def test_the_report_is_one_page() -> None:
    assert len(_reader(REPORT).pages) == 1


def test_every_chart_has_a_title_in_the_text() -> None:
    text = _text(REPORT)
    for title in TITLES:
        assert title in text


def test_the_page_names_the_workspace_and_the_period() -> None:
    text = _text(REPORT)
    assert "Alpine Tours" in text
    assert "January 1, 2025 to April 30, 2025 (UTC)" in text


def test_months_are_labelled_on_the_revenue_chart() -> None:
    text = _text(REPORT)
    for month in ("Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025"):
        assert month in text


def test_key_figures_are_shown_with_the_currency() -> None:
    text = _text(REPORT)
    assert "€400.00 from 6 certificates paid" in text  # 150 + 0 + 200 + 50, 2 + 0 + 3 + 1
    assert "€1,234.50" in text  # outstanding liability
    assert "€50.00" in text  # breakage, and the most popular amount
    assert "33.3%" in text  # redemption rate 2 / 6
    assert "12.5 days" in text


def test_balances_and_value_show_liability_and_breakage_by_kind_redeemed_value_and_refunds() -> None:
    text = [line.text for line in lines(render_sales_report_pdf(REPORT, workspace_name="Alpine Tours"))]
    for shown in (
        "Balances and value",
        "Liability by kind", "Purchased €1,000.00 \u00b7 Promotional €200.00 \u00b7 Credit €34.50",
        "Breakage by kind", "Purchased €40.00 \u00b7 Promotional €10.00 \u00b7 Credit €0.00",
        "Value redeemed in the period", "€600.00 in 7 redemptions",
        "Refunds in the period", "€25.00 in 2 refunds",
    ):
        assert any(shown in line for line in text), (shown, text)


def test_popular_amounts_are_labelled_with_their_formatted_amount() -> None:
    text = _text(REPORT)
    for amount in ("€50.00", "€100.00", "€25.00"):
        assert amount in text


def test_each_chart_draws_one_bar_per_nonzero_value() -> None:
    assert _bars(REPORT, REVENUE_BAR) == 3  # four months, February sold nothing
    assert _bars(REPORT, STATUS_BAR) == 4  # five statuses, no voided certificate
    assert _bars(REPORT, AMOUNT_BAR) == 3
    assert _bars(REPORT, FUNNEL_BAR) == 3


def test_bars_follow_the_data() -> None:
    busier = replace(
        REPORT,
        revenue_by_month=[MonthRevenue(date(2025, m, 1), 1, 1000 * m) for m in range(1, 5)],
        certificates_by_status=dict.fromkeys(("pending", "active", "redeemed", "voided", "expired"), 1),
        popular_amounts=[AmountPopularity(1000 * n, 6 - n) for n in range(1, 6)],
        redeemed=0,
    )
    assert _bars(busier, REVENUE_BAR) == 4
    assert _bars(busier, STATUS_BAR) == 5
    assert _bars(busier, AMOUNT_BAR) == 5
    assert _bars(busier, FUNNEL_BAR) == 2


def test_the_same_report_renders_to_the_same_bytes() -> None:
    first = render_sales_report_pdf(REPORT, workspace_name="Alpine Tours")
    assert render_sales_report_pdf(REPORT, workspace_name="Alpine Tours") == first


def test_a_period_without_sales_renders_with_titles_and_no_bars() -> None:
    text = _text(EMPTY)
    for title in TITLES:
        assert title in text
    assert "No certificates paid in this period" in text
    assert "n/a" in text  # no redemption rate without activations
    for colour in (REVENUE_BAR, STATUS_BAR, AMOUNT_BAR, FUNNEL_BAR):
        assert _bars(EMPTY, colour) == 0


@pytest.mark.parametrize("months", [1, 12, 36])
def test_any_number_of_months_fits_on_one_page(months: int) -> None:
    revenue = [MonthRevenue(date(2023 + (m // 12), m % 12 + 1, 1), 1, 100 * m + 100) for m in range(months)]
    report = replace(REPORT, revenue_by_month=revenue)
    assert len(_reader(report).pages) == 1
    assert _bars(report, REVENUE_BAR) == months


def test_a_workspace_name_outside_latin_1_still_renders() -> None:
    assert render_sales_report_pdf(REPORT, workspace_name="Tours 東京 ✈").startswith(b"%PDF")


GERMAN = [
    "Verkaufsbericht", "1. Januar 2025 bis 30. April 2025 (UTC), Beträge in EUR",
    "400,00\xa0€ aus 6 bezahlten Gutscheinen", "33,3\xa0%", "12,5 Tage", "Jan. 2025", "Umsatz pro Monat (EUR)",
    "Eingelöst", "Guthaben und Werte",
    "Gekauft 1.000,00\xa0€ \u00b7 Werbeaktion 200,00\xa0€ \u00b7 Gutschrift 34,50\xa0€",
    "600,00\xa0€ in 7 Einlösungen", "25,00\xa0€ in 2 Erstattungen",
]
JAPANESE = [  # full-width brackets and tilde, as Japanese is written
    "売上レポート", "2025年1月1日～2025年4月30日（UTC）、金額はEUR",  # noqa: RUF001
    "€400.00（支払い済みギフト券6枚）", "33.3%", "12.5日", "2025年1月", "月別売上（EUR）", "利用済み",  # noqa: RUF001
    "残高と金額", "€600.00（利用7件）", "€25.00（返金2件）",  # noqa: RUF001
]


@pytest.mark.parametrize(("locale", "shown"), [("de", GERMAN), ("ja", JAPANESE)])
def test_the_report_reads_in_the_workspaces_language(locale: str, shown: list[str]) -> None:
    text = [line.text for line in lines(render_sales_report_pdf(REPORT, workspace_name="Alpine Tours", locale=locale))]
    for expected in shown:
        assert any(expected in line for line in text), (expected, text)
