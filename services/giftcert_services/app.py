"""Composes the chosen services into one FastStream application (one process).

`ledger`, `expiry`, `documents` and `mailer` are consumers; `relay` publishes the outbox; `scheduler`
ticks and settles payments whose purchase request did not come within the grace period.
Every process that runs any of them waits for the database schema of its release, then creates the
topics. The relay is its own service so it can be scaled and watched on its own, the expiry consumer
so a tick's batches never share the redemptions' event loop (decision 16); `giftcert run` with no
names runs all six together."""

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote

import yaml
from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI

from giftcert.settings import Settings
from giftcert_services.documents.subscribers import documents_router
from giftcert_services.expiry.subscribers import expiry_router
from giftcert_services.ledger.subscribers import ledger_router
from giftcert_services.mailer.subscribers import mailer_router
from giftcert_services.relay.outbox_relay import OutboxRelay, event_publishers
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap
from giftcert_services.runtime.broker import build_broker
from giftcert_services.runtime.schema import wait_for_schema
from giftcert_services.runtime.shutdown import stop_broker_by, stop_subscribers
from giftcert_services.runtime.topics import ensure_topics
from giftcert_services.scheduler.overdue_payments import OverduePaymentSweeper
from giftcert_services.scheduler.retention import RetentionPruner
from giftcert_services.scheduler.status_gauge import CertificateStatusGauge
from giftcert_services.scheduler.ticker import ExpiryScheduler, tick_publisher

ROUTERS: dict[str, Callable[[Dependencies], KafkaRouter]] = {
    "ledger": ledger_router,
    "expiry": expiry_router,
    "documents": documents_router,
    "mailer": mailer_router,
}
SERVICES = ("ledger", "expiry", "documents", "mailer", "relay", "scheduler")

TITLE = "giftcert"
DESCRIPTION = (
    "Gift-certificate service: the booking platform, the payment system and notification services "
    "talk to it over Kafka. Wire contract v1."
)


def build_specification(broker: KafkaBroker, version: str = "1.0.0") -> AsyncAPI:
    return AsyncAPI(broker, title=TITLE, version=version, description=DESCRIPTION)


def asyncapi_document(*, yaml_format: bool = True) -> str:
    """The AsyncAPI document of all services under the contract's default names, whatever the
    environment says: what docs/asyncapi.yaml holds (`make asyncapi` regenerates it)."""
    settings = Settings(
        topic_prefix="giftcert.", topic_names={}, consumer_group_prefix="giftcert.",
        kafka_bootstrap_servers="127.0.0.1:9092",
    )
    deps = bootstrap(settings)
    document = _one_message_per_record(json.loads(build_app(deps).schema.to_specification().to_json()))
    # sorted: FastStream's order of channels varies from run to run
    if yaml_format:
        return str(yaml.safe_dump(document, sort_keys=True, allow_unicode=True))
    return json.dumps(document, sort_keys=True, indent=2) + "\n"


def _one_message_per_record(document: dict[str, Any]) -> dict[str, Any]:
    """A batch subscriber's handler takes a list, so FastStream documents its payload as an array; but
    every record on the topic is one message: document that message."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    prefix = "#/components/schemas/"
    for message in document.get("components", {}).get("messages", {}).values():
        name = unquote(message.get("payload", {}).get("$ref", "").removeprefix(prefix))
        schema = schemas.get(name, {})
        if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
            message["payload"] = schema["items"]
            del schemas[name]
    return document


def build_app(deps: Dependencies, services: Sequence[str] = SERVICES, *, access_log: bool = True) -> FastStream:
    unknown = set(services) - set(SERVICES)
    if unknown:
        raise ValueError(f"unknown services: {', '.join(sorted(unknown))}; known: {', '.join(SERVICES)}")
    broker = build_broker(deps.settings, access_log=access_log, tracer_provider=deps.tracer_provider)
    for name in services:
        if name in ROUTERS:
            broker.include_router(ROUTERS[name](deps))
    app = FastStream(broker, specification=build_specification(broker))
    _add_lifecycle(app, broker, deps, services)
    return app


def _add_lifecycle(app: FastStream, broker: KafkaBroker, deps: Dependencies, services: Sequence[str]) -> None:
    """A schema migrated as far as this release (runtime/schema.py) and the topics before the
    subscribers start; the relay and scheduler loops after. On the way out, within
    GIFTCERT_GRACEFUL_TIMEOUT_SECONDS of the signal: the timers stop, the consumers finish the
    messages in hand and commit them, then the relay publishes what is committed (theirs included),
    then the broker client stops, by the same deadline even with the broker gone (runtime/shutdown.py),
    and the database pool closes."""
    relay = OutboxRelay(deps, event_publishers(broker, deps))
    scheduler = ExpiryScheduler(deps, tick_publisher(broker, deps))
    tasks: list[asyncio.Task[None]] = []
    stopping = asyncio.Event()

    @app.on_startup
    async def wait_for_schema_then_create_topics() -> None:
        await wait_for_schema(deps.engine)
        await ensure_topics(deps.settings)

    @app.after_startup
    async def start_loops() -> None:
        if stopping.is_set():  # a signal during the startup: its shutdown runs alongside, already past
            return
        if "relay" in services:
            relay.start()
        if "scheduler" in services:
            tasks.append(asyncio.create_task(scheduler.run(), name="expiry-scheduler"))
            tasks.append(asyncio.create_task(OverduePaymentSweeper(deps).run(), name="overdue-payments"))
            tasks.append(asyncio.create_task(RetentionPruner(deps).run(), name="retention"))
            tasks.append(asyncio.create_task(CertificateStatusGauge(deps).run(), name="certificate-status-gauge"))

    @app.on_shutdown
    async def stop_loops() -> None:
        deadline = asyncio.get_running_loop().time() + deps.settings.graceful_timeout_seconds
        stopping.set()
        for task in tasks:
            task.cancel()
        # each waits for its message in hand up to the graceful timeout (FastStream's), then cancels
        # it; stopped here rather than by the broker's own stop so the relay flush comes after
        await stop_subscribers(broker)
        await relay.drain_and_stop(deadline)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await scheduler.close()
        await stop_broker_by(broker, deadline)

    @app.after_shutdown
    async def close_database() -> None:
        await deps.close()
