"""Upgrading: a worker of a new release started before `giftcert db upgrade` has run waits for the
migration instead of failing on a missing table or column (which would dead-letter its messages):
not ready, consuming nothing, then, once the migration is done, it starts and handles what came
meanwhile, once, with nothing dead-lettered."""

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.store.migrate import downgrade_database, upgrade_database
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import STARTED, Launcher, free_port
from tests.scenario import configure

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

WAITING = "waiting for `giftcert db upgrade`"


async def test_a_ledger_started_before_its_migration_waits_for_it_then_handles_what_came_meanwhile(
    launch: Launcher, wire: Wire, database_url: str, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    await asyncio.to_thread(downgrade_database, database_url, "0003")  # the schema of the previous release
    port = free_port()
    ledger = launch("ledger", health_port=str(port))
    await ledger.wait_for_output(WAITING)
    purchase = requests.purchase(workspace)
    await wire.send(Topic.PURCHASE_REQUESTED, purchase)
    await ledger.wait_for_output(WAITING, count=3)  # polled again, still waiting
    async with httpx.AsyncClient(timeout=5) as client:
        waiting = await client.get(f"http://127.0.0.1:{port}/readyz")
    assert waiting.status_code == 503
    assert "schema" in waiting.json()["failing"]
    assert STARTED not in ledger.output
    assert not wire.on(Topic.PURCHASE_REJECTED)
    assert not wire.on(Topic.PURCHASE_REQUESTED, dead_letters=True)

    await asyncio.to_thread(upgrade_database, database_url)
    await ledger.wait_until_started()
    await launch("relay").wait_until_started()
    cid = purchase["certificate_id"]
    await wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == cid)
    await wire.quiet(2)
    assert len([r for r in wire.on(Topic.CERTIFICATE_CREATED) if r.body["certificate_id"] == cid]) == 1
    assert not wire.on(Topic.PURCHASE_REQUESTED, dead_letters=True)
