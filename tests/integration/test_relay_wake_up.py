"""The relay publishes as soon as a transaction that wrote outbox rows commits (NOTIFY), not at its
next poll; the poll still finds rows whose notification was missed."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.clock import SystemClock
from giftcert.ledger.redemption import redeem_certificate
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.topics import Topic
from giftcert_services.app import build_app
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap
from tests.integration.conftest import settings_of_its_own

pytestmark = pytest.mark.integration

POLL_SECONDS = 120.0
"""Far longer than any wait below: an event that arrives was woken, not polled."""


@pytest.fixture
async def relay(postgres_server_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[Dependencies]:
    """A relay of its own (its own database, so no other relay takes its rows) that polls rarely."""
    settings = await settings_of_its_own(
        "wake", postgres_server_url, kafka_bootstrap_servers, relay_poll_seconds=POLL_SECONDS
    )
    deps = bootstrap(settings)
    app = build_app(deps, ["relay"])
    await app.start()
    yield deps
    await app.stop()


@pytest.fixture
async def wire(relay: Dependencies) -> AsyncIterator[Wire]:
    wire = Wire(relay.settings)
    await wire.start()
    yield wire
    await wire.stop()


async def _refuse_an_unknown_code(deps: Dependencies, workspace: str) -> RedeemCertificate:
    command = RedeemCertificate.model_validate(messages.redeem(workspace, "ABCDEFGHJKMN"))
    await redeem_certificate(command, deps.new_uow(), SystemClock())
    return command


LISTENERS = "FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()"


async def _listening(engine: AsyncEngine) -> None:
    """Until the relay's wake-up connection listens on the outbox channel."""
    for _ in range(200):
        async with engine.connect() as connection:
            if (await connection.execute(text(f"SELECT count(*) {LISTENERS}"))).scalar_one() > 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the relay never listened")


async def test_an_event_is_published_when_its_transaction_commits_not_at_the_next_poll(
    relay: Dependencies, wire: Wire, workspace: str
) -> None:
    await _listening(relay.engine)
    for _ in range(3):
        command = await _refuse_an_unknown_code(relay, workspace)
        await wire.wait_for(
            Topic.REDEMPTION_REJECTED, lambda body, c=command: body.get("request_id") == str(c.request_id),
            timeout=POLL_SECONDS / 4,
        )


async def test_rows_written_while_the_wake_up_connection_is_gone_are_published_when_it_is_back(
    relay: Dependencies, wire: Wire, workspace: str
) -> None:
    await _listening(relay.engine)
    async with relay.engine.connect() as connection:
        await connection.execute(text(f"SELECT pg_terminate_backend(pid) {LISTENERS}"))
    command = await _refuse_an_unknown_code(relay, workspace)
    await wire.wait_for(
        Topic.REDEMPTION_REJECTED, lambda body: body.get("request_id") == str(command.request_id),
        timeout=POLL_SECONDS / 4,
    )
