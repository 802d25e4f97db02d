"""The metrics count what the services did (read from the default registry before and after), and the
health app answers `/readyz` from its checks and `/metrics` in the exposition format."""

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE
from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.api.app import build_api
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.runtime.health import build_health_app, database_answers, worker_checks
from giftcert_services.runtime.membership import GroupMemberships
from giftcert_services.scheduler.status_gauge import CertificateStatusGauge
from tests.e2e.conftest import free_port
from tests.scenario import buy, configure

pytestmark = pytest.mark.integration


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Counters move just after the effect a test can see (the offset commit follows the database
    commit the reply came from), so a test waits a moment for them."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the metric did not move in time")
        await asyncio.sleep(0.05)


async def test_a_purchase_a_payment_and_a_redemption_are_counted_and_a_repeat_is_not(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    handled = {
        topic: sample("giftcert_messages_total", topic=topic.value, outcome="handled")
        for topic in (Topic.PURCHASE_REQUESTED, Topic.PAYMENT_COMPLETED, Topic.BOOKING_REDEEM_REQUEST)
    }
    redeemed = sample("giftcert_redemptions_total", outcome="redeemed")
    not_found = sample("giftcert_redemptions_total", outcome="not_found")
    latency = sample("giftcert_handler_seconds_count", topic=Topic.PAYMENT_COMPLETED.value)
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b.get("request_id") == request["request_id"])
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)  # the same request again: its stored decision
    await wire.wait_for(
        Topic.CERTIFICATE_REDEEMED, lambda b: b.get("request_id") == request["request_id"], count=2
    )
    guess = messages.redeem(workspace, "ZZZZZZZZZZZZ")
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, guess)
    await wire.wait_for(Topic.REDEMPTION_REJECTED, lambda b: b.get("request_id") == guess["request_id"])

    await eventually(lambda: all(
        sample("giftcert_messages_total", topic=topic.value, outcome="handled") >= before + expected
        for (topic, before), expected in zip(handled.items(), (1, 1, 3), strict=True)
    ))
    assert sample("giftcert_redemptions_total", outcome="redeemed") == redeemed + 1  # not 2: the repeat
    assert sample("giftcert_redemptions_total", outcome="not_found") == not_found + 1
    assert sample("giftcert_handler_seconds_count", topic=Topic.PAYMENT_COMPLETED.value) >= latency + 1

    deps = bootstrap(wire.settings)
    try:
        await CertificateStatusGauge(deps).refresh()
    finally:
        await deps.close()
    assert sample("giftcert_certificates", workspace=workspace, status="redeemed") == 1
    assert sample("giftcert_certificates", workspace=workspace, status="active") == 0


async def test_a_dead_lettered_message_is_counted_by_topic_and_error_type(wire: Wire) -> None:
    dead = sample("giftcert_messages_total", topic=Topic.VOID.value, outcome="dead_lettered")
    undecodable = sample("giftcert_dead_letters_total", topic=Topic.VOID.value, error_type="undecodable_json")
    marker = b"metrics-dead-letter"
    await wire.send(Topic.VOID, b"{not json", headers=[("x-test", marker)])
    await eventually(lambda: any(r.headers.get("x-test") == marker for r in wire.on(Topic.VOID, dead_letters=True)))
    await eventually(
        lambda: sample("giftcert_messages_total", topic=Topic.VOID.value, outcome="dead_lettered") == dead + 1
    )
    assert sample("giftcert_dead_letters_total", topic=Topic.VOID.value, error_type="undecodable_json") == (
        undecodable + 1
    )


async def test_the_relay_keeps_the_outbox_backlog_gauges_up_to_date(services: None) -> None:
    del services
    OUTBOX_BACKLOG.set(-1)
    OUTBOX_OLDEST_AGE.set(-1)
    await eventually(lambda: sample("giftcert_outbox_backlog") >= 0, timeout=20)
    await eventually(lambda: sample("giftcert_outbox_oldest_age_seconds") >= 0, timeout=20)


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://health")  # type: ignore[arg-type]


async def test_readyz_is_200_when_the_database_and_the_broker_answer(db: AsyncEngine, settings: Settings) -> None:
    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    await broker.connect()
    try:
        async with _client(build_health_app(worker_checks(db, broker, GroupMemberships()))) as client:
            alive = await client.get("/healthz")
            ready = await client.get("/readyz")
    finally:
        await broker.stop()
    assert alive.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok", "broker": "ok", "subscribers": "ok", "assigned": "ok"},
    }


async def test_readyz_is_503_naming_the_database_when_it_does_not_answer() -> None:
    nowhere = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/giftcert")

    async def database() -> bool:
        return await database_answers(nowhere)

    async def broker() -> bool:
        return True

    try:
        async with _client(build_health_app({"database": database, "broker": broker})) as client:
            ready = await client.get("/readyz")
            alive = await client.get("/healthz")
    finally:
        await nowhere.dispose()
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["database"]
    assert ready.json()["checks"] == {"database": "failing", "broker": "ok"}
    assert alive.status_code == 200


async def test_readyz_is_503_naming_the_broker_before_it_is_connected(db: AsyncEngine, settings: Settings) -> None:
    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    async with _client(build_health_app(worker_checks(db, broker, GroupMemberships()))) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["broker"]


async def test_metrics_is_the_prometheus_exposition_text() -> None:
    async with _client(build_health_app({})) as client:
        scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert "# TYPE giftcert_messages_total counter" in scraped.text
    assert "# TYPE giftcert_outbox_backlog gauge" in scraped.text


async def test_the_api_serves_the_same_routes_outside_its_openapi_document(settings: Settings) -> None:
    deps = bootstrap(settings)
    api = build_api(settings, deps=deps)
    try:
        async with _client(api) as client:
            alive, ready, scraped = [await client.get(path) for path in ("/healthz", "/readyz", "/metrics")]
    finally:
        await deps.close()
    assert (alive.status_code, ready.status_code, scraped.status_code) == (200, 200, 200)
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok"}
    assert "giftcert_redemptions_total" in scraped.text
    assert not {"/healthz", "/readyz", "/metrics"} & set(api.openapi()["paths"])
