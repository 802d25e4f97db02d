"""The benchmark's plot (`<out>/redemption.svg`): second by second, the replies read while 20,000
redeem requests are sent as fast as possible, and the p50 and p99 latency of the requests sent in
each second at the steady load and during the expiry tick. Drawn with reportlab's chart library."""

from collections.abc import Sequence
from pathlib import Path

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from bench.redemption import Latency, Throughput

WIDTH, PANEL_HEIGHT = 640, 200
P50, P99, REPLIES = colors.HexColor("#1f77b4"), colors.HexColor("#d62728"), colors.HexColor("#2ca02c")


def _panel(
    drawing: Drawing, top: float, title: str, y_label: str, lines: Sequence[tuple[str, colors.Color, list[float]]],
) -> None:
    plot = LinePlot()
    plot.x, plot.y = 60, top - PANEL_HEIGHT + 30
    plot.width, plot.height = WIDTH - 200, PANEL_HEIGHT - 70
    plot.data = [[(float(i), value) for i, value in enumerate(values)] or [(0.0, 0.0)] for _, _, values in lines]
    for index, (_, color, _) in enumerate(lines):
        plot.lines[index].strokeColor = color
        plot.lines[index].strokeWidth = 1.5
    plot.xValueAxis.valueMin = 0
    plot.yValueAxis.valueMin = 0
    plot.xValueAxis.labels.fontSize = plot.yValueAxis.labels.fontSize = 8
    drawing.add(plot)
    drawing.add(String(60, top - 18, title, fontName="Helvetica-Bold", fontSize=10))
    drawing.add(String(plot.x + plot.width / 2, plot.y - 24, "seconds from the first request", fontSize=8,
                       textAnchor="middle"))
    drawing.add(String(8, plot.y + plot.height + 6, y_label, fontSize=8))
    legend = Legend()
    legend.x, legend.y = plot.x + plot.width + 20, plot.y + plot.height
    legend.fontSize = 8
    legend.colorNamePairs = [(color, name) for name, color, _ in lines]
    drawing.add(legend)


def _latency_lines(latency: Latency) -> list[tuple[str, colors.Color, list[float]]]:
    return [
        ("p50", P50, [second.p50_ms for second in latency.each_second]),
        ("p99", P99, [second.p99_ms for second in latency.each_second]),
    ]


def draw(path: Path, throughput: Throughput, steady: Latency, during_tick: Latency, expired: int) -> Path:
    drawing = Drawing(WIDTH, 3 * PANEL_HEIGHT)
    _panel(drawing, 3 * PANEL_HEIGHT, f"Redemption as fast as possible: {throughput.completions_per_second:,.0f}/s",
           "replies/s", [("replies read", REPLIES, [float(n) for n in throughput.each_second])])
    _panel(drawing, 2 * PANEL_HEIGHT, f"Latency at {steady.offered_per_second:g} requests/s",
           "ms", _latency_lines(steady))
    _panel(drawing, PANEL_HEIGHT,
           f"Latency at {during_tick.offered_per_second:g} requests/s during a tick expiring {expired:,}",
           "ms", _latency_lines(during_tick))
    renderSVG.drawToFile(drawing, str(path))
    return path
