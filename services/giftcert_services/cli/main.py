"""The `giftcert` command: one console script for operators, developers and containers."""

import typer

from giftcert_services.cli import (
    api_keys,
    certificates,
    database,
    develop,
    ledger,
    report,
    run,
    tick,
    topics,
    workspace,
)

app = typer.Typer(
    name="giftcert",
    help="Gift-certificate service: workers around Kafka and PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(database.app, name="db")
app.add_typer(workspace.app, name="workspace")
app.add_typer(certificates.app, name="certificates")
app.add_typer(api_keys.app, name="apikey")
app.add_typer(report.app, name="report")
app.add_typer(topics.app, name="topics")
app.add_typer(ledger.app, name="ledger")
app.command("run")(run.run)
app.command("tick")(tick.tick)
app.command("dev")(develop.dev)
app.command("demo")(develop.demo)
app.command("asyncapi")(run.asyncapi)
app.command("openapi")(run.openapi)
