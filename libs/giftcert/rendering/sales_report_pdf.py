"""The sales report as one A4 page: title, period, the key figures, balances and value (liability and
breakage by kind, value redeemed and refunded in the period), and four charts drawn with
reportlab's own chart library, so the charts are vector shapes and their titles real text.

In the workspace's language (`locale`): its catalog's words, Babel's money, dates and numbers, and
the faces of fonts.py for any script. Rendered deterministically (`invariant=1`): the same report
gives the same bytes. Each chart's bars
have a colour of their own, which is also how a reader (or a test) tells the charts' bars apart.
An empty period draws axes with zero bars and says so where a chart would have nothing to show.
"""

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.renderPDF import draw as draw_drawing
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from giftcert.domain.money import Amount
from giftcert.domain.reports import SalesReport
from giftcert.locales import KIND_LABELS, Language, language
from giftcert.rendering.fonts import font_for
from giftcert.rendering.lines import draw_line
from giftcert_contracts.currencies import MINOR_UNIT_DIGITS

INK = HexColor("#1d2b3a")
MUTED = HexColor("#5b6b7b")
REVENUE_BAR = HexColor("#c0623b")
STATUS_BAR = HexColor("#3b7dc0")
AMOUNT_BAR = HexColor("#4a9a5c")
FUNNEL_BAR = HexColor("#8a5cc0")


MARGIN = 48
TITLE_SIZE = 11
MONTHS_WITH_UPRIGHT_LABELS = 6


@dataclass(frozen=True, slots=True)
class _Box:
    """Where a chart goes on the page: its lower left corner and its size, title included."""

    x: float
    y: float
    width: float
    height: float


def _status_name(status: str, words: Language) -> str:
    names = {
        "pending": words.gettext("Pending"), "active": words.gettext("Active"), "redeemed": words.gettext("Redeemed"),
        "voided": words.gettext("Voided"), "expired": words.gettext("Expired"),
    }
    return names.get(status, status)


def _one_decimal(pattern: str) -> str:
    """The locale's percent pattern (`#,##0 %`) with one decimal (`#,##0.0 %`)."""
    return pattern.replace("#0", "#0.0", 1)


def _money(report: SalesReport, words: Language) -> Callable[[int], str]:
    """Minor units of the report's currency, written as `words` write money."""
    return lambda minor: words.money(Amount(minor, report.currency))


def _key_figures(report: SalesReport, words: Language) -> list[tuple[str, str]]:
    money = _money(report, words)
    revenue = sum(month.revenue_minor for month in report.revenue_by_month)
    sold = sum(month.certificates for month in report.revenue_by_month)
    rate, days = report.redemption_rate, report.average_days_to_redemption
    missing = words.gettext("n/a")
    return [
        (words.gettext("Revenue"), words.ngettext(
            "{amount} from {count} certificate paid", "{amount} from {count} certificates paid", sold
        ).format(amount=money(revenue), count=words.number(sold))),
        (words.gettext("Certificates created"), words.number(report.created)),
        (words.gettext("Redemption rate"),
         missing if rate is None else format_percent(rate, _one_decimal(words.locale.percent_formats[None].pattern),
                                                     locale=words.locale)),
        (words.gettext("Average time to redemption"), missing if days is None else words.gettext("{days} days").format(
            days=format_decimal(round(days, 1), "#,##0.0", locale=words.locale))),
        (words.gettext("Outstanding liability (active now)"), money(report.outstanding_liability_minor)),
        (words.gettext("Breakage (expired in the period)"), money(report.breakage_minor)),
    ]


def _kind_name(kind: str, words: Language) -> str:
    return words.pgettext(*KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def _value_figures(report: SalesReport, words: Language) -> list[tuple[str, str]]:
    """The v2 section: balances owed and lost at expiry by kind, value redeemed and refunded in the period."""
    money = _money(report, words)

    def by_kind(figures: dict[str, int]) -> str:
        return " \u00b7 ".join(f"{_kind_name(kind, words)} {money(minor)}" for kind, minor in figures.items())

    return [
        (words.gettext("Liability by kind"), by_kind(report.liability_by_kind)),
        (words.gettext("Breakage by kind"), by_kind(report.breakage_by_kind)),
        (words.gettext("Value redeemed in the period"), words.ngettext(
            "{amount} in {count} redemption", "{amount} in {count} redemptions", report.redemption_count
        ).format(amount=money(report.redeemed_value_minor), count=words.number(report.redemption_count))),
        (words.gettext("Refunds in the period"), words.ngettext(
            "{amount} in {count} refund", "{amount} in {count} refunds", report.refund_count
        ).format(amount=money(report.refunded_value_minor), count=words.number(report.refund_count))),
    ]


def _value_axis_range(values: Sequence[float]) -> tuple[float, float]:
    """From 0 to a round top with about five steps; a chart of zeros still gets a visible axis."""
    top = max([*values, 0.0])
    if top <= 0:
        return 1.0, 1.0
    magnitude = 10 ** math.floor(math.log10(top / 5)) if top >= 5 else 1  # noqa: PLR2004
    step = next(m * magnitude for m in (1, 2, 5, 10) if top / (m * magnitude) <= 5)  # noqa: PLR2004
    return step * math.ceil(top / step), float(step)


def _titled(box: _Box) -> Drawing:
    """A chart's drawing, with room at the top for its title: text of any script, drawn on the page
    by `_draw_title` (a drawing's strings take one font and no shaping)."""
    return Drawing(box.width, box.height)


def _draw_title(canvas: Canvas, box: _Box, title: str) -> None:
    canvas.setFillColor(INK)
    draw_line(canvas, title, box.x, box.y + box.height - TITLE_SIZE, size=TITLE_SIZE, bold=True)


def _note(drawing: Drawing, box: _Box, text: str) -> None:
    drawing.add(String(box.width / 2, box.height / 2, text, textAnchor="middle", fontName=font_for(text),
                       fontSize=9, fillColor=MUTED))


def _style_axes(chart: VerticalBarChart | HorizontalBarChart, values: Sequence[float], label_format: str) -> None:
    top, step = _value_axis_range(values)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = label_format
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.fontName = font_for("".join(chart.categoryAxis.categoryNames))
    chart.strokeColor = None
    chart.fillColor = None


def _bar_chart(
    box: _Box,
    categories: Sequence[str],
    values: Sequence[float],
    colour: Color,
    *,
    label_format: str = "%d",
    bar_labels: bool = True,
    slanted_labels: bool = False,
) -> Drawing:
    drawing = _titled(box)
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 40 if slanted_labels else 24
    chart.width, chart.height = box.width - 50, box.height - chart.y - TITLE_SIZE - 16
    chart.data = [list(values)]
    chart.categoryAxis.categoryNames = list(categories)
    _style_axes(chart, values, label_format)
    if slanted_labels:
        chart.categoryAxis.labels.angle = 40
        chart.categoryAxis.labels.boxAnchor = "ne"
    chart.bars[0].fillColor = colour
    chart.bars[0].strokeColor = None
    if bar_labels:
        chart.barLabelFormat = "%d"
        chart.barLabels.fontSize = 7
        chart.barLabels.nudge = 6
    drawing.add(chart)
    return drawing


def _popular_amounts_chart(report: SalesReport, box: _Box, words: Language) -> Drawing:
    drawing = _titled(box)
    if not report.popular_amounts:
        _note(drawing, box, words.gettext("No certificates paid in this period"))
        return drawing
    popular = list(reversed(report.popular_amounts))  # a horizontal chart draws its first category lowest
    values = [float(p.certificates) for p in popular]
    chart = HorizontalBarChart()
    chart.x, chart.y = 90, 20
    chart.width, chart.height = box.width - 110, box.height - chart.y - TITLE_SIZE - 16
    chart.data = [values]
    chart.categoryAxis.categoryNames = [words.money(Amount(p.amount_minor, report.currency)) for p in popular]
    _style_axes(chart, values, "%d")
    chart.bars[0].fillColor = AMOUNT_BAR
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 6
    drawing.add(chart)
    return drawing


def _revenue_chart(report: SalesReport, box: _Box, words: Language) -> Drawing:
    digits = MINOR_UNIT_DIGITS.get(report.currency, 2)
    months = report.revenue_by_month
    return _bar_chart(
        box,
        [format_skeleton("yMMM", m.month, locale=words.locale) for m in months],
        [m.revenue_minor / 10**digits for m in months],
        REVENUE_BAR,
        label_format="%.0f",
        bar_labels=False,
        slanted_labels=len(months) > MONTHS_WITH_UPRIGHT_LABELS,
    )


def _draw_header(canvas: Canvas, report: SalesReport, workspace_name: str, words: Language) -> float:
    """Title, period, key figures, then balances and value, from the top of the page down; returns
    where they end."""
    height = A4[1]
    canvas.setFillColor(MUTED)
    draw_line(canvas, workspace_name[:90], MARGIN, height - MARGIN, size=11)  # any script: fonts.py
    canvas.setFillColor(INK)
    draw_line(canvas, words.gettext("Sales report"), MARGIN, height - MARGIN - 28, size=22, bold=True)
    period = words.gettext("{start} to {end} (UTC), figures in {currency}").format(
        start=format_date(report.start, "long", locale=words.locale),
        end=format_date(report.end, "long", locale=words.locale), currency=report.currency,
    )
    draw_line(canvas, period, MARGIN, height - MARGIN - 46, size=11)
    y: float = height - MARGIN - 72
    canvas.setLineWidth(0.5)
    canvas.setStrokeColor(MUTED)
    y = _draw_figures(canvas, _key_figures(report, words), y)
    canvas.setFillColor(INK)
    draw_line(canvas, words.gettext("Balances and value"), MARGIN, y - 4, size=TITLE_SIZE, bold=True)
    return _draw_figures(canvas, _value_figures(report, words), y - 22)


def _draw_figures(canvas: Canvas, figures: list[tuple[str, str]], y: float) -> float:
    """One row per figure, its label left and its value right, from `y` down; returns where they end."""
    width = A4[0]
    for label, value in figures:
        canvas.setFillColor(MUTED)
        draw_line(canvas, label, MARGIN, y, size=10)
        canvas.setFillColor(INK)
        draw_line(canvas, value, width - MARGIN, y, size=10, bold=True, align="right")
        canvas.line(MARGIN, y - 4, width - MARGIN, y - 4)
        y -= 16
    return y


def _chart_boxes(top: float) -> tuple[_Box, _Box, _Box, _Box]:
    """Revenue across the page, then status and funnel side by side, then the popular amounts."""
    width = A4[0] - 2 * MARGIN
    row = (top - MARGIN - 24) / 3
    half = (width - 24) / 2
    return (
        _Box(MARGIN, top - row, width, row),
        _Box(MARGIN, top - 2 * row - 12, half, row),
        _Box(MARGIN + half + 24, top - 2 * row - 12, half, row),
        _Box(MARGIN, top - 3 * row - 24, width, row),
    )


def render_sales_report_pdf(report: SalesReport, *, workspace_name: str, locale: str | None = None) -> bytes:
    """`locale`: the workspace's (BCP 47); English when none."""
    words = language(locale)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(words.gettext("Sales report"))
    canvas.setAuthor(workspace_name)
    charts_top = _draw_header(canvas, report, workspace_name, words) - 12
    revenue, status, funnel, amounts = _chart_boxes(charts_top)
    statuses = [(_status_name(s, words), n) for s, n in report.certificates_by_status.items()]
    funnel_steps = [words.gettext("Created"), words.gettext("Activated"), words.gettext("Redeemed")]
    status_title, funnel_title = words.gettext("Certificates by status"), words.gettext("Redemption funnel")
    drawings = (
        (revenue, words.gettext("Revenue per month ({currency})").format(currency=report.currency),
         _revenue_chart(report, revenue, words)),
        (status, status_title, _bar_chart(status, [s for s, _ in statuses],
                                          [float(n) for _, n in statuses], STATUS_BAR)),
        (funnel, funnel_title, _bar_chart(funnel, funnel_steps,
                                          [float(report.created), float(report.activated), float(report.redeemed)],
                                          FUNNEL_BAR)),
        (amounts, words.gettext("Most popular amounts"), _popular_amounts_chart(report, amounts, words)),
    )
    for box, title, drawing in drawings:
        draw_drawing(drawing, canvas, box.x, box.y)
        _draw_title(canvas, box, title)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
