"""Fault injection for the crash tests. Unset in production.

`GIFTCERT_FAILPOINTS=point[,point...]`, each point either `name` (everywhere) or `name@topic` (only
while handling a message of that inbound topic, by base name, e.g. `after_db_commit@payment-completed`).

- `after_db_commit`: die (os._exit, like kill -9: no cleanup, no commit) after a consumer committed
  its transaction and before it committed the offset.
- `relay_before_publish`: die after the relay claimed outbox rows and before it published them.
- `stall_before_handler`: never finish handling the message (wait until cancelled), for the tests
  that stop a worker while it is busy."""

import asyncio
import os
import sys

EXIT_CODE = 86


def _armed() -> frozenset[str]:
    return frozenset(p.strip() for p in os.environ.get("GIFTCERT_FAILPOINTS", "").split(",") if p.strip())


ARMED = _armed()


def _is_armed(name: str, where: str | None) -> bool:
    return name in ARMED or (where is not None and f"{name}@{where}" in ARMED)


def _announce(name: str, where: str | None) -> None:
    sys.stderr.write(f"failpoint {name}{'@' + where if where else ''} reached\n")
    sys.stderr.flush()


def failpoint(name: str, where: str | None = None) -> None:
    """Exits the process at once, with EXIT_CODE, where the point is armed."""
    if _is_armed(name, where):
        _announce(name, where)
        os._exit(EXIT_CODE)


async def stall_point(name: str, where: str | None = None) -> None:
    """Waits until cancelled where the point is armed."""
    if _is_armed(name, where):
        _announce(name, where)
        await asyncio.Event().wait()
