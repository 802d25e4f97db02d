"""`giftcert run [SERVICE ...]`, `giftcert asyncapi` and `giftcert openapi`.

`giftcert run` logs JSON lines unless GIFTCERT_LOG_FORMAT=text (json_logs.py), and traces when an
OTLP endpoint is configured (tracing.py)."""

import asyncio

import typer
import uvicorn
from faststream.kafka import KafkaBroker

from giftcert.settings import Settings
from giftcert_services.api.app import build_api, openapi_document
from giftcert_services.app import SERVICES, asyncapi_document, build_app
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.runtime.health import (
    consumer_lag_refresher,
    health_server,
    worker_checks,
    worker_description,
)
from giftcert_services.runtime.heap import freeze_startup_heap_of
from giftcert_services.runtime.json_logs import LogFormat, configure_logging
from giftcert_services.runtime.tracing import tracer_provider_from_settings

API = "api"


def api_server(settings: Settings) -> uvicorn.Server:
    """The HTTP API under uvicorn on GIFTCERT_API_HOST:GIFTCERT_API_PORT; it stops on SIGTERM/SIGINT.
    Once started, the process's objects are left out of later garbage collections (heap.py).
    X-Forwarded-For is read only from GIFTCERT_API_TRUSTED_PROXIES (uvicorn takes the right-most
    address no trusted proxy added); with none, never."""
    trusted = settings.api_trusted_proxies.strip()
    config = uvicorn.Config(
        build_api(settings, after_startup=freeze_startup_heap_of((API,))),
        host=settings.api_host, port=settings.api_port, log_config=None,
        timeout_graceful_shutdown=int(settings.graceful_timeout_seconds),
        proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None,
    )
    return uvicorn.Server(config)


async def run_workers(settings: Settings, workers: tuple[str, ...], *, log_format: LogFormat) -> None:
    """The workers as one FastStream app, with the health server (GIFTCERT_HEALTH_PORT) answering
    from before the app starts (`/readyz` 503 meanwhile) until after it stopped. FastStream's
    per-message lines keep its own text format, or, in JSON, go through the root logger. Once started,
    the process's objects are left out of later garbage collections (heap.py)."""
    deps = bootstrap(settings, tracer_provider=tracer_provider_from_settings(settings, workers), pre_ping=False)
    app = build_app(deps, workers, access_log=log_format == "text")
    app.after_startup(freeze_startup_heap_of(workers))  # after the app's own hooks: the loops have started
    broker = app.broker
    if not isinstance(broker, KafkaBroker):
        raise TypeError(f"the worker app has no Kafka broker: {broker!r}")
    checks = worker_checks(deps.engine, broker, deps.memberships)
    lag = consumer_lag_refresher(broker, settings)
    async with health_server(settings, checks, lag, worker_description(deps.memberships)):
        await app.run()


async def run_services(settings: Settings, chosen: tuple[str, ...], *, log_format: LogFormat) -> None:
    """The chosen workers (one FastStream app, with its health server) and, when asked for, the HTTP
    API (which serves the same health routes itself), side by side."""
    workers = tuple(name for name in chosen if name != API)
    runs = []
    if workers:
        runs.append(run_workers(settings, workers, log_format=log_format))
    if API in chosen:
        runs.append(api_server(settings).serve())
    await asyncio.gather(*runs)


def run(
    services: list[str] | None = typer.Argument(
        None, help=f"Any of: {', '.join((*SERVICES, API))} (all workers when none; the API only when named)."
    ),
    log_level: str = typer.Option("INFO", help="Python logging level."),
) -> None:
    """Run services against the configured broker, database and SMTP server (GIFTCERT_* settings)."""
    chosen = tuple(services or SERVICES)
    unknown = set(chosen) - {*SERVICES, API}
    if unknown:
        known = ", ".join((*SERVICES, API))
        raise typer.BadParameter(f"unknown service(s) {', '.join(sorted(unknown))}; choose from {known}")
    settings = Settings()
    log_format = settings.log_format or "json"
    configure_logging(log_format, log_level)
    asyncio.run(run_services(settings, chosen, log_format=log_format))


def asyncapi(
    yaml_format: bool = typer.Option(True, "--yaml/--json", help="Output format."),
) -> None:
    """Print the AsyncAPI document of all services (what docs/asyncapi.yaml holds)."""
    typer.echo(asyncapi_document(yaml_format=yaml_format), nl=False)


def openapi() -> None:
    """Print the OpenAPI document of the HTTP API (what docs/openapi.json holds)."""
    typer.echo(openapi_document(), nl=False)
