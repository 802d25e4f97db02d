"""`giftcert db upgrade|downgrade`: Alembic migrations against GIFTCERT_DATABASE_URL."""

import typer

from giftcert.settings import Settings
from giftcert.store.migrate import downgrade_database, upgrade_database

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    upgrade_database(Settings().database_url, revision)
    typer.echo(f"database upgraded to {revision}")


@app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
    """Revert migrations down to REVISION."""
    downgrade_database(Settings().database_url, revision)
    typer.echo(f"database downgraded to {revision}")
