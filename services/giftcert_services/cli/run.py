"""`giftcert run [SERVICE ...]` and `giftcert asyncapi`."""

import asyncio
import logging

import typer

from giftcert.settings import Settings
from giftcert_services.app import SERVICES, asyncapi_document, build_app
from giftcert_services.runtime.bootstrap import bootstrap


def run(
    services: list[str] | None = typer.Argument(None, help=f"Any of: {', '.join(SERVICES)} (all when none)."),
    log_level: str = typer.Option("INFO", help="Python logging level."),
) -> None:
    """Run services against the configured broker, database and SMTP server (GIFTCERT_* settings)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    chosen = tuple(services or SERVICES)
    unknown = set(chosen) - set(SERVICES)
    if unknown:
        raise typer.BadParameter(f"unknown service(s) {', '.join(sorted(unknown))}; choose from {', '.join(SERVICES)}")
    app = build_app(bootstrap(Settings()), chosen)
    asyncio.run(app.run())


def asyncapi(
    yaml_format: bool = typer.Option(True, "--yaml/--json", help="Output format."),
) -> None:
    """Print the AsyncAPI document of all services (what docs/asyncapi.yaml holds)."""
    typer.echo(asyncapi_document(yaml_format=yaml_format), nl=False)
