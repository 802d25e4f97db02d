"""Applies the Alembic migrations shipped in this package to a database URL, and tells how far a
database is migrated compared with this release."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Blocking; runs its own event loop, so call it from a thread when one is running."""
    command.upgrade(_config(database_url), revision)


def downgrade_database(database_url: str, revision: str) -> None:
    command.downgrade(_config(database_url), revision)


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    """The database's revision; None before the first migration."""
    head: str
    """The latest revision this release ships."""
    known: bool
    """Whether this release ships `current`: a revision it does not know is a later release's."""

    @property
    def serves_this_release(self) -> bool:
        """At this release's head, or past it (migrations only add, so this release runs on theirs)."""
        return self.current == self.head or (self.current is not None and not self.known)


@cache
def _release_revisions() -> tuple[str, frozenset[str]]:
    """This release's head and every revision it ships (read once: probes ask often)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    return str(scripts.get_current_head()), frozenset(script.revision for script in scripts.walk_revisions())


async def schema_state(engine: AsyncEngine) -> SchemaState:
    try:
        async with engine.connect() as connection:
            current = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except ProgrammingError:  # no alembic_version table: never migrated
        current = None
    head, revisions = _release_revisions()
    return SchemaState(current, head, current in revisions)
