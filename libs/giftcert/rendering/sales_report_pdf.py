"""The sales report as one A4 page: title, period, the key figures, and four charts drawn with
reportlab's own chart library, so the charts are vector shapes and their titles real text.

Rendered deterministically (`invariant=1`): the same report gives the same bytes. Each chart's bars
have a colour of their own, which is also how a reader (or a test) tells the charts' bars apart.
An empty period draws axes with zero bars and says so where a chart would have nothing to show.
"""

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.renderPDF import draw as draw_drawing
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from giftcert.domain.money import Amount
from giftcert.operations.reports import SalesReport
from giftcert.rendering.lines import draw_line
from giftcert_contracts.currencies import MINOR_UNIT_DIGITS

INK = HexColor("#1d2b3a")
MUTED = HexColor("#5b6b7b")
REVENUE_BAR = HexColor("#c0623b")
STATUS_BAR = HexColor("#3b7dc0")
AMOUNT_BAR = HexColor("#4a9a5c")
FUNNEL_BAR = HexColor("#8a5cc0")

REVENUE_TITLE = "Revenue per month"
STATUS_TITLE = "Certificates by status"
AMOUNTS_TITLE = "Most popular amounts"
FUNNEL_TITLE = "Redemption funnel"

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


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _days(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} days"


def _key_figures(report: SalesReport) -> list[tuple[str, str]]:
    def money(minor: int) -> str:
        return Amount(minor, report.currency).formatted()

    revenue = sum(month.revenue_minor for month in report.revenue_by_month)
    sold = sum(month.certificates for month in report.revenue_by_month)
    return [
        ("Revenue", f"{money(revenue)} from {sold} certificates paid"),
        ("Certificates created", str(report.created)),
        ("Redemption rate", _percent(report.redemption_rate)),
        ("Average time to redemption", _days(report.average_days_to_redemption)),
        ("Outstanding liability (active now)", money(report.outstanding_liability_minor)),
        ("Breakage (expired in the period)", money(report.breakage_minor)),
    ]


def _value_axis_range(values: Sequence[float]) -> tuple[float, float]:
    """From 0 to a round top with about five steps; a chart of zeros still gets a visible axis."""
    top = max([*values, 0.0])
    if top <= 0:
        return 1.0, 1.0
    magnitude = 10 ** math.floor(math.log10(top / 5)) if top >= 5 else 1  # noqa: PLR2004
    step = next(m * magnitude for m in (1, 2, 5, 10) if top / (m * magnitude) <= 5)  # noqa: PLR2004
    return step * math.ceil(top / step), float(step)


def _titled(box: _Box, title: str) -> Drawing:
    drawing = Drawing(box.width, box.height)
    drawing.add(String(0, box.height - TITLE_SIZE, title, fontName="Helvetica-Bold", fontSize=TITLE_SIZE,
                       fillColor=INK))
    return drawing


def _note(drawing: Drawing, box: _Box, text: str) -> None:
    drawing.add(String(box.width / 2, box.height / 2, text, textAnchor="middle", fontName="Helvetica-Oblique",
                       fontSize=9, fillColor=MUTED))


def _style_axes(chart: VerticalBarChart | HorizontalBarChart, values: Sequence[float], label_format: str) -> None:
    top, step = _value_axis_range(values)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = step
    chart.valueAxis.labelTextFormat = label_format
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.labels.fontSize = 7
    chart.strokeColor = None
    chart.fillColor = None


def _bar_chart(
    box: _Box,
    title: str,
    categories: Sequence[str],
    values: Sequence[float],
    colour: Color,
    *,
    label_format: str = "%d",
    bar_labels: bool = True,
    slanted_labels: bool = False,
) -> Drawing:
    drawing = _titled(box, title)
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


def _popular_amounts_chart(report: SalesReport, box: _Box) -> Drawing:
    drawing = _titled(box, AMOUNTS_TITLE)
    if not report.popular_amounts:
        _note(drawing, box, "No certificates paid in this period")
        return drawing
    popular = list(reversed(report.popular_amounts))  # a horizontal chart draws its first category lowest
    values = [float(p.certificates) for p in popular]
    chart = HorizontalBarChart()
    chart.x, chart.y = 90, 20
    chart.width, chart.height = box.width - 110, box.height - chart.y - TITLE_SIZE - 16
    chart.data = [values]
    chart.categoryAxis.categoryNames = [Amount(p.amount_minor, report.currency).formatted() for p in popular]
    _style_axes(chart, values, "%d")
    chart.bars[0].fillColor = AMOUNT_BAR
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontSize = 7
    chart.barLabels.nudge = 6
    drawing.add(chart)
    return drawing


def _revenue_chart(report: SalesReport, box: _Box) -> Drawing:
    digits = MINOR_UNIT_DIGITS.get(report.currency, 2)
    months = report.revenue_by_month
    return _bar_chart(
        box,
        f"{REVENUE_TITLE} ({report.currency})",
        [f"{m.month:%b %Y}" for m in months],
        [m.revenue_minor / 10**digits for m in months],
        REVENUE_BAR,
        label_format="%.0f",
        bar_labels=False,
        slanted_labels=len(months) > MONTHS_WITH_UPRIGHT_LABELS,
    )


def _draw_header(canvas: Canvas, report: SalesReport, workspace_name: str) -> float:
    """Title, period and key figures from the top of the page down; returns where they end."""
    width, height = A4
    canvas.setFillColor(MUTED)
    draw_line(canvas, workspace_name[:90], MARGIN, height - MARGIN, size=11)  # any script: fonts.py
    canvas.setFillColor(INK)
    canvas.setFont("Helvetica-Bold", 22)
    canvas.drawString(MARGIN, height - MARGIN - 28, "Sales report")
    canvas.setFont("Helvetica", 11)
    period = f"{report.start:%d %B %Y} to {report.end:%d %B %Y} (UTC), figures in {report.currency}"
    canvas.drawString(MARGIN, height - MARGIN - 46, period)
    y: float = height - MARGIN - 72
    canvas.setLineWidth(0.5)
    canvas.setStrokeColor(MUTED)
    for label, value in _key_figures(report):
        canvas.setFont("Helvetica", 10)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, y, label)
        canvas.setFillColor(INK)
        canvas.setFont("Helvetica-Bold", 10)
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


def render_sales_report_pdf(report: SalesReport, *, workspace_name: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle("Sales report")
    canvas.setAuthor(workspace_name)
    charts_top = _draw_header(canvas, report, workspace_name) - 12
    revenue, status, funnel, amounts = _chart_boxes(charts_top)
    statuses = list(report.certificates_by_status.items())
    drawings = (
        (revenue, _revenue_chart(report, revenue)),
        (status, _bar_chart(status, STATUS_TITLE, [s for s, _ in statuses], [float(n) for _, n in statuses],
                            STATUS_BAR)),
        (funnel, _bar_chart(funnel, FUNNEL_TITLE, ["Created", "Activated", "Redeemed"],
                            [float(report.created), float(report.activated), float(report.redeemed)], FUNNEL_BAR)),
        (amounts, _popular_amounts_chart(report, amounts)),
    )
    for box, drawing in drawings:
        draw_drawing(drawing, canvas, box.x, box.y)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
