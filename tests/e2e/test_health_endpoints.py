"""A `giftcert run ledger` process as a probe and Prometheus see it: alive at once, ready once its
subscribers run, and its `/metrics` counting the messages it handled (its replies wait in the outbox:
no relay runs here)."""

import asyncio
import time

import httpx
import pytest

from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import Launcher, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def _get_until(client: httpx.AsyncClient, url: str, status: int, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: httpx.Response | str = "no answer"
    while time.monotonic() < deadline:
        try:
            last = await client.get(url)
        except httpx.TransportError as error:
            last = repr(error)
        else:
            if last.status_code == status:
                return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not answer {status}: {last if isinstance(last, str) else last.text}")


async def test_a_ledger_process_answers_healthz_readyz_and_metrics(launch: Launcher, wire: Wire) -> None:
    port = free_port()
    ledger = launch("ledger", health_port=str(port))
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=10) as client:
        alive = await _get_until(client, f"{base}/healthz", 200)
        assert alive.json() == {"status": "alive"}
        await ledger.wait_until_started()
        ready = await _get_until(client, f"{base}/readyz", 200, timeout=10)
        assert ready.json()["checks"] == {
            "database": "ok", "schema": "ok", "broker": "ok", "subscribers": "ok", "assigned": "ok",
        }

        request = messages.purchase("tours-health")
        await wire.send(Topic.PURCHASE_REQUESTED, request)
        deadline = time.monotonic() + 30
        while True:
            scraped = await client.get(f"{base}/metrics")
            line = f'giftcert_messages_total{{outcome="handled",topic="{Topic.PURCHASE_REQUESTED.value}"}}'
            if line in scraped.text or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    assert scraped.status_code == 200
    assert line in scraped.text, scraped.text[-3000:]
    assert "giftcert_consumer_lag{" in scraped.text
    assert ledger.stop() == 0, ledger.output[-3000:]  # SIGTERM stops the worker and its health server alike
    assert "FastStream app shut down gracefully" in ledger.output
