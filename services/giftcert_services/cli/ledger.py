"""`giftcert ledger verify`: every certificate's kept balance recomputed from its ledger entries."""

import typer

from giftcert.store.ledger import Discrepancy
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies

app = typer.Typer(help="The value ledger.", no_args_is_help=True)


async def _discrepancies(deps: Dependencies, workspace_id: str | None) -> list[Discrepancy]:
    async with deps.new_uow() as uow:
        return await uow.ledger.discrepancies(workspace_id)


@app.command("verify")
def verify(
    workspace_id: str | None = typer.Option(None, "--workspace", help="Only this workspace (default: all)."),
) -> None:
    """Recompute every certificate's balance from its ledger entries; list each that differs from the
    balance kept with the certificate (exit 1), or say all agree (exit 0). Read only."""
    found = run_with_database(lambda deps: _discrepancies(deps, workspace_id))
    for d in found:
        typer.echo(
            f"{d.workspace_id} {d.certificate_id}: balance kept {d.kept_minor}, ledger entries say {d.derived_minor}"
        )
    if found:
        typer.echo(f"{len(found)} balance(s) differ from the ledger", err=True)
        raise typer.Exit(1)
    typer.echo("every balance matches the ledger")
