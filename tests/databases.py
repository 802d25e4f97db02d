"""Databases of their own for tests that need one, on the session's PostgreSQL server."""

import asyncio
from uuid import uuid4

import asyncpg
from sqlalchemy.engine import make_url

from giftcert.store.migrate import upgrade_database


def migrated_database_url(server_url: str, purpose: str) -> str:
    """A new database named after its purpose, with the schema at the latest migration."""
    url = fresh_database_url(server_url, f"giftcert_{purpose}_{uuid4().hex[:10]}")
    upgrade_database(url)
    return url


def fresh_database_url(server_url: str, name: str) -> str:
    """Creates database `name` on the server of `server_url` (synchronously) and returns its URL."""
    url = make_url(server_url)

    async def create() -> None:
        connection = await asyncpg.connect(
            user=url.username, password=url.password, host=url.query.get("host") or url.host,
            port=url.port, database=url.database or "postgres",
        )
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return url.set(database=name).render_as_string(hide_password=False)
