"""Integration fixtures: a fresh migrated database on a real PostgreSQL, topics with a prefix of
their own on a real Kafka-protocol broker, a local SMTP sink, and all services running in-process.
Each test works in workspaces of its own, so the session's services are shared."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.mail.sink import MailFolderSink
from giftcert.settings import Settings
from giftcert.store.migrate import upgrade_database
from giftcert_services.app import build_app
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.integrator.wire import Wire
from tests.stack import fresh_database_url


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> str:
    url = fresh_database_url(postgres_server_url, f"giftcert_it_{uuid4().hex[:10]}")
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def mail_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="session")
def mail_sink(mail_folder: Path) -> Iterator[MailFolderSink]:
    with MailFolderSink(mail_folder) as sink:
        yield sink


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


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def workspace() -> str:
    return f"ws-{uuid4().hex[:12]}"


async def code_of(db: AsyncEngine, certificate_id: str | UUID) -> str:
    """What the recipient reads on the PDF (tests look it up as an operator would)."""
    async with db.connect() as connection:
        result = await connection.execute(
            text("SELECT code FROM certificates WHERE id = :id"), {"id": str(certificate_id)}
        )
        return str(result.scalar_one())

