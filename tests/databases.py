"""Databases of their own for tests that need one, on the session's PostgreSQL server."""

import asyncio

import asyncpg
from sqlalchemy.engine import make_url


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
