"""The dashboard's charts as data for server-drawn SVG: bars with their geometry and labels (in the
page's locale), so a chart needs no script and no inline style, and reads at any width (the SVG
scales by its viewBox)."""

from dataclasses import dataclass

from babel.dates import format_skeleton

from giftcert.domain.money import Amount
from giftcert.locales import Language
from giftcert.operations.reports import SalesReport

WIDTH, HEIGHT, BASE = 600, 220, 190


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    short: str = ""
    """The value as the bar's own label: whole units without the currency (the chart's title says it)."""
    name: str = ""
    """The label in full where a short one is drawn (`Dez.` on the axis, `Dez. 2026` in the title)."""


def revenue_bars(report: SalesReport, words: Language) -> list[Bar]:
    months = report.revenue_by_month[-12:]
    top = max((m.revenue_minor for m in months), default=0) or 1
    slot = WIDTH / max(len(months), 1)
    bars = []
    for index, month in enumerate(months):
        height = (BASE - 30) * month.revenue_minor / top
        bars.append(Bar(
            x=round(index * slot + slot * 0.15, 1), y=round(BASE - height, 1), width=round(slot * 0.7, 1),
            height=round(height, 1), label=format_skeleton("MMM", month.month, locale=words.locale),
            name=words.month(month.month),
            value=words.money(Amount(month.revenue_minor, report.currency)) if month.revenue_minor else "",
            short=words.whole_units(Amount(month.revenue_minor, report.currency)) if month.revenue_minor else "",
        ))
    return bars


def amount_bars(report: SalesReport, words: Language) -> list[Bar]:
    """Horizontal bars, most sold first: the label is the amount, the value the certificates sold."""
    top = max((a.certificates for a in report.popular_amounts), default=0) or 1
    return [
        Bar(x=150, y=index * 34 + 4, width=round(400 * a.certificates / top, 1), height=24,
            label=words.money(Amount(a.amount_minor, report.currency)), value=words.number(a.certificates))
        for index, a in enumerate(report.popular_amounts)
    ]
