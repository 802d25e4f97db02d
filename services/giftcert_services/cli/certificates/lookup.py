"""`giftcert certificates search` and `show`: finding certificates and reading one, never printing
a full code (`code_last4` only)."""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from uuid import UUID

import typer

from giftcert.domain.certificate import KINDS, Certificate, Kind, Status
from giftcert.operations.details import certificate_details
from giftcert.operations.errors import CertificateNotFoundError
from giftcert.operations.search import MAX_PAGE_SIZE, CertificateSearch, InvalidCursorError, search_certificates
from giftcert_services.cli.certificates.output import activity_entry, as_listed, not_found, when
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies


def moment(value: str | None, option: str, *, upper: bool) -> datetime | None:
    """A date (a whole UTC day: from its start, or up to its end for an upper bound) or an RFC 3339
    time (UTC when it has no offset)."""
    if value is None:
        return None
    try:
        if len(value) == len("2026-01-31"):
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if upper else day, time(), UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a date (2026-01-31) nor an RFC 3339 time (2026-01-31T10:00:00Z)", param_hint=option
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def search_of(
    workspace: str, *, code: str | None = None, purchaser_email: str | None, recipient_email: str | None,
    status: Status | None, kind: str | None, created_from: str | None, created_to: str | None,
    expires_from: str | None, expires_to: str | None, limit: int = 50, after: str | None = None,
) -> CertificateSearch:
    """The search the command-line options describe (`search` and `export` take the same filters);
    typer.BadParameter for one it cannot take."""
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"one of {', '.join(KINDS)}", param_hint="--kind")
    try:
        return CertificateSearch(
            workspace_id=workspace,
            code=code,
            purchaser_email=purchaser_email,
            recipient_email=recipient_email,
            status=status,
            kind=cast("Kind", kind),
            created_from=moment(created_from, "--created-from", upper=False),
            created_to=moment(created_to, "--created-to", upper=True),
            expires_from=moment(expires_from, "--expires-from", upper=False),
            expires_to=moment(expires_to, "--expires-to", upper=True),
            limit=limit,
            after=after,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _print_table(found: list[Certificate]) -> None:
    def stamp(value: datetime | None) -> str:
        return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")

    header = ("certificate_id", "status", "amount", "last4", "recipient", "created (UTC)", "expires (UTC)")
    rows = [
        (str(c.id), c.status.value, c.amount.formatted(), c.code_last4, c.recipient_email,
         stamp(c.created_at), stamp(c.expires_at))
        for c in found
    ]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def search(
    workspace: str = typer.Option(..., "--workspace", help="The workspace to search; no other is ever searched."),
    code: str | None = typer.Option(None, help="The full code, in any spelling (case, spaces and dashes ignored)."),
    purchaser_email: str | None = typer.Option(None, help="The purchaser's email, any case."),
    recipient_email: str | None = typer.Option(None, help="The recipient's email, any case."),
    status: Status | None = typer.Option(None, case_sensitive=False, help="Only certificates in this status."),
    kind: str | None = typer.Option(None, help="Only certificates of this kind: purchased, promotional or credit."),
    created_from: str | None = typer.Option(None, help="Created at or after: a date or an RFC 3339 time, UTC."),
    created_to: str | None = typer.Option(None, help="Created before this time, or on or before this date."),
    expires_from: str | None = typer.Option(None, help="Expiring at or after: a date or an RFC 3339 time, UTC."),
    expires_to: str | None = typer.Option(None, help="Expiring before this time, or on or before this date."),
    limit: int = typer.Option(50, min=1, max=MAX_PAGE_SIZE, help="Certificates per page."),
    after: str | None = typer.Option(None, metavar="CURSOR", help="The next cursor printed with the last page."),
    as_json: bool = typer.Option(False, "--json", help='{"certificates": [...], "next_cursor": ...}'),
) -> None:
    """Certificates of one workspace, newest first, a page at a time (the next cursor is printed)."""
    query = search_of(
        workspace, code=code, purchaser_email=purchaser_email, recipient_email=recipient_email, status=status,
        kind=kind, created_from=created_from, created_to=created_to, expires_from=expires_from,
        expires_to=expires_to, limit=limit, after=after,
    )

    async def find(deps: Dependencies) -> Any:
        async with deps.engine.connect() as connection:
            return await search_certificates(connection, query)

    try:
        page = run_with_database(find)
    except InvalidCursorError as error:
        raise typer.BadParameter(str(error), param_hint="--after") from None
    if as_json:
        listed = [as_listed(c) for c in page.certificates]
        typer.echo(json.dumps({"certificates": listed, "next_cursor": page.next_cursor}, indent=2))
        return
    if not page.certificates:
        typer.echo("no certificates found")
    else:
        _print_table(page.certificates)
    typer.echo(f"next cursor: {page.next_cursor}" if page.next_cursor else "(last page)")


def show(
    certificate_id: UUID = typer.Argument(..., metavar="CERTIFICATE_ID"),
    workspace: str = typer.Option(..., "--workspace", help="The certificate's workspace."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Status, amount, dates, code_last4 and the activity log of one certificate (exit 1: not found)."""
    try:
        details = run_with_database(lambda deps: certificate_details(deps.new_uow(), workspace, certificate_id))
    except CertificateNotFoundError as error:
        raise not_found(str(error)) from None
    certificate = details.certificate
    found: dict[str, Any] = {
        "certificate_id": str(certificate.id),
        "workspace_id": certificate.workspace_id,
        "status": certificate.status.value,
        "amount": {"minor": certificate.amount.minor, "currency": certificate.amount.currency},
        "amount_formatted": certificate.amount.formatted(),
        "code_last4": certificate.code_last4,
        "channel": certificate.channel,
        "kind": certificate.kind,
        "created_at": when(certificate.created_at),
        "activated_at": when(certificate.activated_at),
        "expires_at": when(certificate.expires_at),
        "redeemed_at": when(certificate.redeemed_at),
        "voided_at": when(certificate.voided_at),
        "expired_at": when(certificate.expired_at),
        "order_id": details.order_id,
        "activity": [activity_entry(e) for e in details.activity],
    }
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for key in ("certificate_id", "workspace_id", "status", "amount_formatted", "code_last4", "channel", "kind",
                "created_at", "activated_at", "expires_at", "redeemed_at", "voided_at", "expired_at", "order_id"):
        if found[key] is not None:
            typer.echo(f"{key.replace('_formatted', ''):>14}: {found[key]}")
    typer.echo("      activity:")
    for entry in found["activity"]:
        extra = ", ".join(f"{k}={entry[k]}" for k in ("reason", "actor", "reference") if k in entry)
        typer.echo(f"  {entry['at']}  {entry['kind']:<22} {extra}")
