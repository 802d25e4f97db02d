"""The migrations build exactly the schema the code declares, and undo themselves cleanly."""

import asyncio
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from giftcert.store.migrate import downgrade_database, upgrade_database
from giftcert.store.schema import metadata
from tests.databases import fresh_database_url

pytestmark = pytest.mark.integration


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def _inspect(url: str) -> tuple[list[object], set[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_differences), await connection.run_sync(_tables)
    finally:
        await engine.dispose()


async def test_upgrade_builds_the_declared_schema_and_downgrade_removes_it(postgres_server_url: str) -> None:
    url = await asyncio.to_thread(fresh_database_url, postgres_server_url, f"giftcert_mig_{uuid4().hex[:10]}")
    await asyncio.to_thread(upgrade_database, url)
    differences, tables = await _inspect(url)
    assert differences == []
    assert tables == set(metadata.tables)

    await asyncio.to_thread(downgrade_database, url, "base")
    assert (await _inspect(url))[1] == set()
    await asyncio.to_thread(upgrade_database, url)
    assert (await _inspect(url))[0] == []
