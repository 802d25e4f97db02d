"""`giftcert certificates show`: one certificate with its activity log, for operators."""

import asyncio
import json
from typing import Any
from uuid import UUID

import typer

from giftcert.settings import Settings
from giftcert.store.activity import ActivityEntry
from giftcert_services.runtime.bootstrap import bootstrap

app = typer.Typer(help="Look up certificates.", no_args_is_help=True)


def _entry(entry: ActivityEntry) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": entry.kind.value, "at": entry.occurred_at.isoformat()}
    row |= {k: v for k in ("reason", "actor", "reference") if (v := getattr(entry, k)) is not None}
    return row


async def _load(certificate_id: UUID, workspace_id: str) -> dict[str, Any] | None:
    deps = bootstrap(Settings())
    try:
        async with deps.new_uow() as uow:
            certificate = await uow.certificates.get(workspace_id, certificate_id)
            if certificate is None:
                return None
            activity = await uow.activity.of_certificate(certificate_id)
            order_id = await uow.ledger.order_of_redemption(certificate_id)
    finally:
        await deps.close()

    def when(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "certificate_id": str(certificate.id),
        "workspace_id": certificate.workspace_id,
        "status": certificate.status.value,
        "amount": {"minor": certificate.amount.minor, "currency": certificate.amount.currency},
        "amount_formatted": certificate.amount.formatted(),
        "code_last4": certificate.code_last4,
        "channel": certificate.channel,
        "created_at": when(certificate.created_at),
        "activated_at": when(certificate.activated_at),
        "expires_at": when(certificate.expires_at),
        "redeemed_at": when(certificate.redeemed_at),
        "voided_at": when(certificate.voided_at),
        "expired_at": when(certificate.expired_at),
        "order_id": order_id,
        "activity": [_entry(e) for e in activity],
    }


@app.command("show")
def show(
    certificate_id: UUID = typer.Argument(..., metavar="CERTIFICATE_ID"),
    workspace: str = typer.Option(..., "--workspace", help="The certificate's workspace."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Status, amount, dates, code_last4 and the activity log of one certificate."""
    found = asyncio.run(_load(certificate_id, workspace))
    if found is None:
        typer.echo(f"no certificate {certificate_id} in workspace {workspace}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for key in ("certificate_id", "workspace_id", "status", "amount_formatted", "code_last4", "channel",
                "created_at", "activated_at", "expires_at", "redeemed_at", "voided_at", "expired_at", "order_id"):
        if found[key] is not None:
            typer.echo(f"{key.replace('_formatted', ''):>14}: {found[key]}")
    typer.echo("      activity:")
    for entry in found["activity"]:
        extra = ", ".join(f"{k}={entry[k]}" for k in ("reason", "actor", "reference") if k in entry)
        typer.echo(f"  {entry['at']}  {entry['kind']:<22} {extra}")
