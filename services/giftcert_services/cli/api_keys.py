"""`giftcert apikey create|list|revoke`: the bearer keys the HTTP API accepts, per workspace.

The secret exists in plain text only in the output of `create`: the database keeps its SHA-256
digest (giftcert.domain.api_key), so a lost secret is replaced by a new key, never looked up."""

import json
from uuid import UUID

import typer
from pydantic import TypeAdapter, ValidationError

from giftcert.domain.api_key import ApiKey, Scope
from giftcert.operations.api_keys import CreatedApiKey, create_api_key
from giftcert_contracts.fields import Name, WorkspaceId
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies

app = typer.Typer(
    help="API keys of a workspace. Exit status: 0 done; 1 no such live key; 2 invalid options.",
    no_args_is_help=True,
)

def _workspace(value: str) -> str:
    try:
        return TypeAdapter(WorkspaceId).validate_python(value)
    except ValidationError:
        raise typer.BadParameter("1 to 64 characters on one line", param_hint="WORKSPACE") from None


def _described(key: ApiKey) -> dict[str, str | None]:
    """A key as `list` shows it: never its secret, which is not stored anyway."""
    return {
        "key_id": str(key.id),
        "workspace_id": key.workspace_id,
        "scope": key.scope.value,
        "label": key.label,
        "created_at": key.created_at.isoformat(),
        "revoked_at": None if key.revoked_at is None else key.revoked_at.isoformat(),
    }


@app.command("create")
def create(
    workspace: str = typer.Argument(..., metavar="WORKSPACE"),
    scope: Scope = typer.Option(
        ..., case_sensitive=False,
        help="admin (operators' tools), portal (the shop) or booking (the booking platform's checkout).",
    ),
    label: str = typer.Option("", help="What the key is for, to recognise it in `apikey list`."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output, secret included."),
) -> None:
    """Make a key and print its secret, once: it cannot be shown again."""
    workspace = _workspace(workspace)
    if label:
        try:
            label = TypeAdapter(Name).validate_python(label)
        except ValidationError:
            raise typer.BadParameter("up to 200 characters on one line", param_hint="--label") from None

    async def make(deps: Dependencies) -> CreatedApiKey:
        return await create_api_key(deps.new_uow(), workspace, scope, label, deps.clock.now())

    created = run_with_database(make)
    if as_json:
        typer.echo(json.dumps(_described(created.key) | {"secret": created.secret}, indent=2))
    else:
        typer.echo(f"key_id: {created.key.id}")
        typer.echo(f" scope: {created.key.scope.value}")
        typer.echo(f"secret: {created.secret}")
    typer.echo("Store the secret now: it is kept only as a digest and cannot be shown again.", err=True)


@app.command("list")
def list_keys(
    workspace: str = typer.Argument(..., metavar="WORKSPACE"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The workspace's keys, revoked ones included, oldest first; never a secret."""
    workspace = _workspace(workspace)

    async def find(deps: Dependencies) -> list[ApiKey]:
        async with deps.new_uow() as uow:
            return await uow.api_keys.of_workspace(workspace)

    keys = [_described(key) for key in run_with_database(find)]
    if as_json:
        typer.echo(json.dumps({"api_keys": keys}, indent=2))
        return
    if not keys:
        typer.echo(f"no API keys in workspace {workspace}")
    for key in keys:
        state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "live"
        typer.echo(f"{key['key_id']}  {key['scope']:<7}  created {key['created_at']}  {state}  {key['label']}".rstrip())


@app.command("revoke")
def revoke(
    workspace: str = typer.Argument(..., metavar="WORKSPACE"),
    key_id: UUID = typer.Argument(..., metavar="KEY_ID"),
) -> None:
    """Stop accepting a key from now on (exit 1 when the workspace has no such live key)."""
    workspace = _workspace(workspace)

    async def revoke_key(deps: Dependencies) -> bool:
        async with deps.new_uow() as uow:
            revoked = await uow.api_keys.revoke(workspace, key_id, deps.clock.now())
            await uow.commit()
        return revoked

    if not run_with_database(revoke_key):
        typer.echo(f"no live API key {key_id} in workspace {workspace}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
