"""A worker starts consuming only once the database is migrated as far as its release.

New code on an older schema fails on a missing table or column, and such a failure is not
transient: the message would be dead-lettered after GIFTCERT_HANDLER_MAX_ATTEMPTS tries. So a
worker that starts before `giftcert db upgrade` has run waits, polling the schema's revision, with
its subscribers not started (`/readyz` answers 503 meanwhile), and goes on once the migration is
done. A revision this release does not know is a later release's: it runs on it (the migrations
only add tables, nullable columns, columns with defaults and indexes)."""

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.store.migrate import schema_state
from giftcert_services.runtime.faults import is_transient

log = logging.getLogger("giftcert.schema")

POLL_SECONDS = 2.0


async def wait_for_schema(engine: AsyncEngine, *, poll_seconds: float = POLL_SECONDS) -> None:
    """Returns once the database serves this release; waits (and says why) while it does not."""
    while True:
        try:
            state = await schema_state(engine)
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("cannot read the database schema's revision (%r); trying again", error)
        else:
            if state.serves_this_release:
                if not state.known:
                    log.info("database schema at %s, later than this release's %s", state.current, state.head)
                return
            log.warning(
                "database schema at %s, this release needs %s: waiting for `giftcert db upgrade`",
                state.current or "no revision", state.head,
            )
        await asyncio.sleep(poll_seconds)
