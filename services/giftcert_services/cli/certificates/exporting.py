"""`giftcert certificates export`: the certificates a search's filters select, as CSV (the
columns of giftcert.operations.export; never a code), streamed to stdout or a file."""

import sys
from pathlib import Path
from typing import TextIO

import typer

from giftcert.domain.certificate import Status
from giftcert.operations.export import export_certificates
from giftcert_services.cli.certificates.lookup import search_of
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies


def export(
    workspace: str = typer.Option(..., "--workspace", help="The workspace to export; no other is ever read."),
    purchaser_email: str | None = typer.Option(None, help="The purchaser's email, any case."),
    recipient_email: str | None = typer.Option(None, help="The recipient's email, any case."),
    status: Status | None = typer.Option(None, case_sensitive=False, help="Only certificates in this status."),
    kind: str | None = typer.Option(None, help="Only certificates of this kind: purchased, promotional or credit."),
    created_from: str | None = typer.Option(None, help="Created at or after: a date or an RFC 3339 time, UTC."),
    created_to: str | None = typer.Option(None, help="Created before this time, or on or before this date."),
    expires_from: str | None = typer.Option(None, help="Expiring at or after: a date or an RFC 3339 time, UTC."),
    expires_to: str | None = typer.Option(None, help="Expiring before this time, or on or before this date."),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", dir_okay=False, help="Where to write it (default: stdout)."
    ),
) -> None:
    """Every certificate the filters select (as `search` finds them, all pages), newest first, as CSV."""
    query = search_of(
        workspace, purchaser_email=purchaser_email, recipient_email=recipient_email, status=status, kind=kind,
        created_from=created_from, created_to=created_to, expires_from=expires_from, expires_to=expires_to,
    )

    async def write(deps: Dependencies, target: TextIO) -> None:
        async for chunk in export_certificates(deps.engine, query):
            target.write(chunk)

    if output is None:
        run_with_database(lambda deps: write(deps, sys.stdout))
        return
    partial = output.with_name(f"{output.name}.part")  # a cut export never takes the file's name
    try:
        with partial.open("w", encoding="utf-8", newline="") as target:
            run_with_database(lambda deps: write(deps, target))
        partial.replace(output)
    except OSError as error:
        raise typer.BadParameter(f"cannot write {output}: {error.strerror}", param_hint="--output") from None
    finally:
        partial.unlink(missing_ok=True)
    typer.echo(f"wrote {output} ({output.stat().st_size:,} bytes)")
