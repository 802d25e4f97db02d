"""`/healthz`, `/readyz` and `/metrics` for every service process.

A worker process serves them from a small Starlette app under uvicorn on
GIFTCERT_HEALTH_HOST:GIFTCERT_HEALTH_PORT (0: off), in the worker's own event loop, for as long as the
worker app runs; the API process adds the same routes to its FastAPI app (`health_routes`).

- `/healthz`: the process is alive and its event loop answers. Always 200.
- `/readyz`: every readiness check passes (the database answers `SELECT 1`, its schema is
  migrated as far as this release, the broker answers, every subscriber runs, every subscriber's
  consumer has joined its group: membership.py): 200 with each check's result; otherwise 503
  naming the failing checks. A worker's answer also lists the partitions each of its consumer
  groups assigned it (`partitions`, by group id; an idle standby replica holds none and is ready).
- `/metrics`: the default Prometheus registry in the text exposition format; a worker's consumer
  lag is refreshed first, so a scrape sees it as it is."""

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from typing import Any

import uvicorn
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from giftcert.metrics import CONSUMER_LAG
from giftcert.settings import Settings
from giftcert.store.migrate import schema_state
from giftcert_services.runtime.membership import GroupMemberships

log = logging.getLogger("giftcert.health")

CHECK_TIMEOUT_SECONDS = 3.0
"""A check that takes longer fails: a probe must answer before its own timeout (often 1 to 5 s)."""

ReadinessCheck = Callable[[], Awaitable[bool]]
BeforeScrape = Callable[[], Awaitable[None]]
Description = Callable[[], Mapping[str, Any]]


async def database_answers(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return True


async def schema_serves_this_release(engine: AsyncEngine) -> bool:
    """Migrated as far as this release's code (or further): runtime/schema.py."""
    return (await schema_state(engine)).serves_this_release


def worker_checks(engine: AsyncEngine, broker: KafkaBroker, memberships: GroupMemberships) -> dict[str, ReadinessCheck]:
    """A worker is ready when its database answers at this release's schema, its broker answers,
    every subscriber runs and every subscriber's consumer has joined its group (been given an
    assignment, an empty one included: before that, its share of the partitions is nobody's)."""

    async def database() -> bool:
        return await database_answers(engine)

    async def schema() -> bool:
        return await schema_serves_this_release(engine)

    async def broker_connected() -> bool:
        return await broker.ping(timeout=CHECK_TIMEOUT_SECONDS)

    async def subscribers_started() -> bool:
        return all(subscriber.running for subscriber in broker.subscribers)

    async def consumers_assigned() -> bool:
        return all(memberships.joined(str(getattr(s, "group_id", ""))) for s in broker.subscribers)

    return {
        "database": database, "schema": schema, "broker": broker_connected, "subscribers": subscribers_started,
        "assigned": consumers_assigned,
    }


def worker_description(memberships: GroupMemberships) -> Description:
    def describe() -> Mapping[str, Any]:
        return {"partitions": memberships.held()}

    return describe


async def _passes(name: str, check: ReadinessCheck) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS))
    except Exception as error:  # noqa: BLE001 - a failing check is an answer, not an error of the probe
        log.warning("readiness check %s failed: %s", name, type(error).__name__)
        return False


def health_routes(
    checks: Mapping[str, ReadinessCheck], before_scrape: BeforeScrape | None = None,
    describe: Description | None = None,
) -> list[Route]:
    async def healthz(request: Request) -> Response:
        del request
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        del request
        names = list(checks)
        results = await asyncio.gather(*(_passes(name, checks[name]) for name in names))
        outcome = {name: "ok" if passed else "failing" for name, passed in zip(names, results, strict=True)}
        failing = [name for name, passed in zip(names, results, strict=True) if not passed]
        details = {} if describe is None else dict(describe())
        if failing:
            return JSONResponse(
                {"status": "unavailable", "failing": failing, "checks": outcome, **details}, status_code=503
            )
        return JSONResponse({"status": "ready", "checks": outcome, **details})

    async def metrics(request: Request) -> Response:
        del request
        if before_scrape is not None:
            try:
                await before_scrape()
            except Exception:  # stale figures are better than no figures
                log.warning("refreshing metrics before a scrape failed", exc_info=True)
        return PlainTextResponse(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


def build_health_app(
    checks: Mapping[str, ReadinessCheck], before_scrape: BeforeScrape | None = None,
    describe: Description | None = None,
) -> Starlette:
    return Starlette(routes=health_routes(checks, before_scrape, describe))


def consumer_lag_refresher(broker: KafkaBroker, settings: Settings) -> BeforeScrape:
    """Lag per assigned partition from the aiokafka consumers the subscribers hold, through public
    APIs only (`assignment()`, `highwater()`, `position()`). A partition whose high watermark is not
    known yet (nothing fetched since the assignment) or that is no longer assigned has no series."""

    async def refresh() -> None:
        CONSUMER_LAG.clear()
        for subscriber in broker.subscribers:
            consumer: Any = getattr(subscriber, "consumer", None)
            group = getattr(subscriber, "group_id", None)
            if consumer is None or group is None:
                continue
            for partition in consumer.assignment():
                highwater = consumer.highwater(partition)
                if highwater is None:
                    continue
                try:
                    position = await asyncio.wait_for(consumer.position(partition), timeout=1.0)
                except Exception as error:  # noqa: BLE001 - a partition being reassigned: no figure this time
                    log.debug("no position for %s: %r", partition, error)
                    continue
                base = settings.base_topic_by_name.get(partition.topic)
                CONSUMER_LAG.labels(
                    group=group, topic=base.value if base else partition.topic, partition=str(partition.partition)
                ).set(max(highwater - position, 0))

    return refresh


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the worker app owns SIGTERM, and this server stops when
    the worker app has stopped, so a probe sees the process until its very end."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(host: str, port: int) -> socket.socket | None:
    """Bound here rather than by uvicorn, which exits the process when the port is taken: the worker
    matters more than its probes, so it runs on and the probes, failing, tell."""
    try:
        return socket.create_server((host, port))
    except OSError as error:
        problem = error
    log.error("health server off: cannot listen on %s:%s (%s)", host, port, problem)
    return None


@contextlib.asynccontextmanager
async def health_server(
    settings: Settings, checks: Mapping[str, ReadinessCheck], before_scrape: BeforeScrape | None = None,
    describe: Description | None = None,
) -> AsyncIterator[None]:
    """Serves the health app on GIFTCERT_HEALTH_HOST:GIFTCERT_HEALTH_PORT while the block runs; does
    nothing when the port is 0 or taken."""
    listener = None if settings.health_port == 0 else _bind(settings.health_host, settings.health_port)
    if listener is None:
        yield
        return
    config = uvicorn.Config(
        build_health_app(checks, before_scrape, describe), log_config=None, access_log=False, lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = _EmbeddedServer(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]), name="health-server")
    host, port = listener.getsockname()[:2]
    log.info("health endpoints on http://%s:%s (/healthz, /readyz, /metrics)", host, port)
    try:
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
