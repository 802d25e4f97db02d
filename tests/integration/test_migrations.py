"""The migrations build exactly the schema the code declares, undo themselves cleanly, and a
database tells whether it is migrated as far as this release."""

import asyncio
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from giftcert.store.migrate import downgrade_database, schema_state, upgrade_database
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


async def test_a_database_serves_this_release_at_its_head_or_past_it_but_not_before(postgres_server_url: str) -> None:
    url = await asyncio.to_thread(fresh_database_url, postgres_server_url, f"giftcert_mig_{uuid4().hex[:10]}")
    engine = create_async_engine(url)
    try:
        never = await schema_state(engine)
        await asyncio.to_thread(upgrade_database, url, "0003")
        behind = await schema_state(engine)
        await asyncio.to_thread(upgrade_database, url)
        at_head = await schema_state(engine)
        async with engine.begin() as connection:  # as a later release's migration would leave it
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        ahead = await schema_state(engine)
    finally:
        await engine.dispose()
    assert (never.current, never.serves_this_release) == (None, False)
    assert (behind.current, behind.known, behind.serves_this_release) == ("0003", True, False)
    assert (at_head.current, at_head.serves_this_release) == (at_head.head, True)
    assert (ahead.current, ahead.known, ahead.serves_this_release) == ("9999", False, True)
