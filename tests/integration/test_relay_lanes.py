"""The relay's checkout lane: a reply a customer waits for at checkout goes out while a bulk of
events committed before it (an expiry tick's) still waits in the other lane."""

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select

from giftcert.clock import SystemClock
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.redemption import redeem_certificate
from giftcert.messaging.outbox import Lane
from giftcert.store.schema import outbox
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.outbound import CertificateExpired
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from giftcert_services.relay.outbox_relay import OutboxRelay, event_publishers
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap
from giftcert_services.runtime.broker import build_broker
from giftcert_services.runtime.topics import ensure_topics
from tests.integration.conftest import settings_of_its_own

pytestmark = pytest.mark.integration

BULK = 1_200
"""More than two of the relay's batches (500 rows each)."""


@pytest.fixture
async def deps(postgres_server_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[Dependencies]:
    """A database of its own, so no other relay takes its rows."""
    settings = await settings_of_its_own("lanes", postgres_server_url, kafka_bootstrap_servers)
    await ensure_topics(settings)
    deps = bootstrap(settings)
    yield deps
    await deps.engine.dispose()


@pytest.fixture
async def relay(deps: Dependencies) -> AsyncIterator[OutboxRelay]:
    """A relay whose batches the test runs itself, one at a time."""
    broker: KafkaBroker = build_broker(deps.settings)
    relay = OutboxRelay(deps, event_publishers(broker, deps))
    await broker.start()
    yield relay
    await broker.stop()


async def _expire_in_bulk(deps: Dependencies, workspace: str) -> None:
    now = SystemClock().now()
    events = [
        CertificateExpired(
            **new_event_fields(workspace, now), certificate_id=uuid4(), code_last4="WXYZ", expired_at=now
        )
        for _ in range(BULK)
    ]
    async with deps.new_uow() as uow:
        await uow.outbox.add(*events)
        await uow.commit()


async def _rows_on(deps: Dependencies, topic: Topic) -> int:
    async with deps.engine.connect() as connection:
        query = select(func.count()).select_from(outbox).where(outbox.c.topic == topic.value)
        return int((await connection.execute(query)).scalar_one())


async def test_a_checkout_reply_goes_out_ahead_of_a_bulk_of_events_committed_before_it(
    deps: Dependencies, relay: OutboxRelay, workspace: str
) -> None:
    await _expire_in_bulk(deps, workspace)
    command = RedeemCertificate.model_validate(messages.redeem(workspace, "ABCDEFGHJKMN"))
    await redeem_certificate(command, deps.new_uow(), SystemClock())  # refused: unknown code
    wire = Wire(deps.settings)
    await wire.start()
    try:
        assert await relay.relay_batch(Lane.CHECKOUT_REPLIES) == 1
        await wire.wait_for(Topic.REDEMPTION_REJECTED, lambda body: body["request_id"] == str(command.request_id))
        assert await _rows_on(deps, Topic.CERTIFICATE_EXPIRED) == BULK, "the bulk waits in its own lane"

        published = [await relay.relay_batch(Lane.EVENTS) for _ in range(4)]
        assert published == [500, 500, BULK - 1000, 0]
        assert await _rows_on(deps, Topic.CERTIFICATE_EXPIRED) == 0
        assert await relay.relay_batch(Lane.CHECKOUT_REPLIES) == 0, "the reply went out once"
    finally:
        await wire.stop()
