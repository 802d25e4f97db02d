"""Integration fixtures: all services running in-process on the session's database (tests/conftest.py),
with topics of their own (a prefix) on the real broker. Each test works in a workspace of its own,
so the session's services are shared."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from giftcert.mail.sink import MailFolderSink
from giftcert.settings import Settings
from giftcert_services.app import build_app
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.bootstrap import bootstrap
from tests.databases import migrated_database_url

PAYMENT_GRACE_SECONDS = 3.0


async def settings_of_its_own(
    purpose: str, postgres_server_url: str, kafka_bootstrap_servers: str, **overrides: Any
) -> Settings:
    """A database and topics (one partition each) of its own, for a test whose relay must be the only
    one to take its outbox rows."""
    prefix = f"{purpose}{uuid4().hex[:8]}."
    return Settings(
        database_url=await asyncio.to_thread(migrated_database_url, postgres_server_url, purpose),
        kafka_bootstrap_servers=kafka_bootstrap_servers, topic_prefix=prefix, consumer_group_prefix=prefix,
        topic_partitions=1, **overrides,
    )


@pytest.fixture(scope="session")
def settings(database_url: str, kafka_bootstrap_servers: str, mail_sink: MailFolderSink) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_prefix=f"it{uuid4().hex[:8]}.",
        smtp_port=mail_sink.port,
        relay_poll_seconds=0.02,
        retry_initial_seconds=0.05,
        retry_max_seconds=1.0,
        expiry_tick_seconds=3600,
        payment_grace_seconds=PAYMENT_GRACE_SECONDS,
        topic_partitions=2,
    )


@pytest.fixture(scope="session")
async def services(settings: Settings) -> AsyncIterator[None]:
    app = build_app(bootstrap(settings))
    await app.start()
    yield
    await app.stop()


@pytest.fixture(scope="session")
async def wire(settings: Settings, services: None) -> AsyncIterator[Wire]:
    del services
    wire = Wire(settings)
    await wire.start()
    yield wire
    await wire.stop()
