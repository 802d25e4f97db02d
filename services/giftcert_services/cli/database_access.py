"""How a CLI command reaches the database: one engine for the command, disposed of at the end, and
a database that cannot be reached reported in one line (exit 1), not as a traceback."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from giftcert.settings import Settings
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap

Result = TypeVar("Result")


def run_with_database(work: Callable[[Dependencies], Awaitable[Result]]) -> Result:
    async def with_dependencies() -> Result:
        deps = bootstrap(Settings())
        try:
            return await work(deps)
        finally:
            await deps.close()

    try:
        return asyncio.run(with_dependencies())
    except (OSError, SQLAlchemyError) as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        typer.echo(f"database unavailable: {first_line}", err=True)
        raise typer.Exit(1) from None
