"""Fixtures every kind of test may use: the real PostgreSQL and broker (tests/stack.py), a fresh
migrated database for the session, a mail sink writing .eml files, and a workspace of the test's own."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.mail.sink import MailFolderSink
from tests.databases import migrated_database_url

pytest_plugins = ["tests.stack", "tests.reliability"]


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> str:
    return migrated_database_url(postgres_server_url, "it")


@pytest.fixture(scope="session")
def mail_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="session")
def mail_sink(mail_folder: Path) -> Iterator[MailFolderSink]:
    with MailFolderSink(mail_folder) as sink:
        yield sink


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def workspace() -> str:
    return f"ws-{uuid4().hex[:12]}"
