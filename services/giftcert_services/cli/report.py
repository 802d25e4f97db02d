"""`giftcert report sales` and `giftcert report expiring`: figures for operators, as aligned text,
as JSON for scripts, or (sales) as a PDF with charts. Money figures are in the workspace's currency."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from giftcert.domain.money import Amount
from giftcert.operations.reports import ExpiringCertificate, SalesReport, expiring_certificates, sales_report
from giftcert.rendering.sales_report_pdf import render_sales_report_pdf
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies

app = typer.Typer(help="Sales figures and certificates about to expire.", no_args_is_help=True)

DATE_FORMATS = ["%Y-%m-%d"]
MONTHS_BY_DEFAULT = 12


@dataclass(frozen=True, slots=True)
class _NamedReport:
    report: SalesReport
    workspace_name: str
    locale: str


def _last_months_start(today: date) -> date:
    """The first day of the month MONTHS_BY_DEFAULT - 1 months back: the default period is twelve months."""
    months = today.year * 12 + today.month - 1 - (MONTHS_BY_DEFAULT - 1)
    return date(months // 12, months % 12 + 1, 1)


async def _load_sales(deps: Dependencies, workspace_id: str, start: date, end: date) -> _NamedReport:
    async with deps.new_uow() as uow:
        settings = await uow.workspaces.get_or_default(workspace_id)
        report = await sales_report(uow.connection, workspace_id, start=start, end=end, currency=settings.currency)
        return _NamedReport(report, settings.name, settings.locale)


async def _load_expiring(
    deps: Dependencies, workspace_id: str, within_days: int | None
) -> tuple[int, list[ExpiringCertificate]]:
    async with deps.new_uow() as uow:
        if within_days is None:
            within_days = (await uow.workspaces.get_or_default(workspace_id)).reminder_days
        found = await expiring_certificates(uow.connection, workspace_id, now=deps.clock.now(), within_days=within_days)
        return within_days, found


def _sales_json(report: SalesReport) -> dict[str, Any]:
    return {
        "workspace_id": report.workspace_id,
        "currency": report.currency,
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "revenue_by_month": [
            {"month": m.month.isoformat()[:7], "certificates": m.certificates, "revenue_minor": m.revenue_minor}
            for m in report.revenue_by_month
        ],
        "certificates_by_status": report.certificates_by_status,
        "popular_amounts": [
            {"amount_minor": p.amount_minor, "certificates": p.certificates} for p in report.popular_amounts
        ],
        "funnel": {"created": report.created, "activated": report.activated, "redeemed": report.redeemed},
        "redemption_rate": report.redemption_rate,
        "average_days_to_redemption": report.average_days_to_redemption,
        "outstanding_liability_minor": report.outstanding_liability_minor,
        "breakage_minor": report.breakage_minor,
        "liability_by_kind": report.liability_by_kind,
        "breakage_by_kind": report.breakage_by_kind,
        "redeemed_value_minor": report.redeemed_value_minor,
        "redemption_count": report.redemption_count,
        "redeemed_value_by_kind": report.redeemed_value_by_kind,
        "redemption_count_by_kind": report.redemption_count_by_kind,
        "refunded_value_minor": report.refunded_value_minor,
        "refund_count": report.refund_count,
    }


def _sales_lines(report: SalesReport, workspace_name: str) -> list[str]:
    def money(minor: int) -> str:
        return Amount(minor, report.currency).formatted()

    rate = "n/a" if report.redemption_rate is None else f"{report.redemption_rate:.1%}"
    days = "n/a" if report.average_days_to_redemption is None else f"{report.average_days_to_redemption:.1f}"
    lines = [f"Sales of {workspace_name} ({report.workspace_id}), {report.start} to {report.end} (UTC)", ""]
    lines += [f"{'Revenue per month':<22}{'certificates':>12}  {'revenue':>18}", *(
        f"  {m.month:%Y-%m}{'':<13}{m.certificates:>12}  {money(m.revenue_minor):>18}"
        for m in report.revenue_by_month
    ), ""]
    lines += ["Certificates created, by status now",
              *(f"  {status:<20}{count:>12}" for status, count in report.certificates_by_status.items()), ""]
    popular = [f"  {money(p.amount_minor):<20}{p.certificates:>12}" for p in report.popular_amounts]
    lines += [f"{'Most popular amounts':<22}{'certificates':>12}", *(popular or ["  (none paid in the period)"]), ""]
    lines += [
        f"{'Funnel':<28} created {report.created}, activated {report.activated}, redeemed {report.redeemed}",
        f"{'Redemption rate':<28} {rate}",
        f"{'Average days to redemption':<28} {days}",
        f"{'Outstanding liability':<28} {money(report.outstanding_liability_minor)}  (balances of active ones)",
        *(f"  {kind:<26} {money(minor)}" for kind, minor in report.liability_by_kind.items()),
        f"{'Breakage':<28} {money(report.breakage_minor)}  (balances left at expiry)",
        *(f"  {kind:<26} {money(minor)}" for kind, minor in report.breakage_by_kind.items()),
        (f"{'Redeemed value':<28} {money(report.redeemed_value_minor)}"
         f" in {_counted(report.redemption_count, 'redemption')}"),
        *(f"  {kind:<26} {money(minor)} in {report.redemption_count_by_kind.get(kind, 0)}"
          for kind, minor in report.redeemed_value_by_kind.items()),
        f"{'Refunded value':<28} {money(report.refunded_value_minor)} in {_counted(report.refund_count, 'refund')}",
    ]
    return lines


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _expiring_json(certificate: ExpiringCertificate) -> dict[str, Any]:
    return {
        "certificate_id": str(certificate.certificate_id),
        "code_last4": certificate.code_last4,
        "amount_minor": certificate.amount_minor,
        "currency": certificate.currency,
        "recipient_email": certificate.recipient_email,
        "expires_at": certificate.expires_at.isoformat(),
        "reminded": certificate.reminded,
    }


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@app.command("sales")
def sales(
    workspace: str = typer.Option(..., "--workspace", help="The workspace to report on."),
    start: datetime | None = typer.Option(
        None, "--from", formats=DATE_FORMATS, help="First day, UTC (default: the first of the month 11 months ago)."
    ),
    end: datetime | None = typer.Option(None, "--to", formats=DATE_FORMATS, help="Last day, UTC (default: today)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    pdf: Path | None = typer.Option(None, "--pdf", dir_okay=False, help="Also write the report with charts here."),
) -> None:
    """Revenue per month, certificates by status, popular amounts, redemption, liability and breakage
    (balances), value redeemed and refunded in the period."""
    last = end.date() if end else datetime.now(UTC).date()
    first = start.date() if start else _last_months_start(last)
    if first > last:
        raise _fail(f"--from ({first}) is after --to ({last})")
    named = run_with_database(lambda deps: _load_sales(deps, workspace, first, last))
    if pdf is not None:
        try:
            drawn = render_sales_report_pdf(named.report, workspace_name=named.workspace_name, locale=named.locale)
            pdf.write_bytes(drawn)
        except OSError as error:
            raise _fail(f"cannot write {pdf}: {error.strerror}") from None
    if as_json:
        typer.echo(json.dumps(_sales_json(named.report), indent=2))
        return
    typer.echo("\n".join(_sales_lines(named.report, named.workspace_name)))
    if pdf is not None:
        typer.echo(f"\nPDF written to {pdf}")


@app.command("expiring")
def expiring(
    workspace: str = typer.Option(..., "--workspace", help="The workspace to look in."),
    within_days: int | None = typer.Option(
        None, "--within-days", min=0, help="Days ahead to look (default: the workspace's reminder_days)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Active certificates expiring within the coming days, soonest first (only the code's last 4)."""
    days, found = run_with_database(lambda deps: _load_expiring(deps, workspace, within_days))
    if as_json:
        typer.echo(json.dumps({"within_days": days, "certificates": [_expiring_json(c) for c in found]}, indent=2))
        return
    typer.echo(f"{len(found)} active certificates of {workspace} expire within {days} days")
    for certificate in found:
        amount = Amount(certificate.amount_minor, certificate.currency).formatted()
        reminded = "reminded" if certificate.reminded else "not reminded"
        expires = certificate.expires_at.astimezone(UTC)
        typer.echo(
            f"  {expires:%Y-%m-%d %H:%M} UTC  ...{certificate.code_last4}  {amount:>16}  "
            f"{certificate.recipient_email:<40}  {reminded}"
        )
