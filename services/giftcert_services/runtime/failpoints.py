"""Fault injection for the crash and stop tests. Unset in production.

`GIFTCERT_FAILPOINTS=point[,point...]`, each point either `name` (everywhere) or `name@topic` (only
while handling a message of that inbound topic, by base name, e.g. `after_db_commit@payment-completed`).

- `after_db_commit`: die (os._exit, like kill -9: no cleanup, no commit) after a consumer committed
  its transaction and before it committed the offset.
- `relay_before_publish`: die after the relay claimed outbox rows and before it published them.
- `stall_before_handler`: never finish handling the message (wait until cancelled), for the tests
  that stop a worker while it is busy.
- `delay_before_handler`: wait GIFTCERT_FAILPOINT_DELAY_SECONDS (default 1) before handling the
  first message that reaches it and every GIFTCERT_FAILPOINT_DELAY_EVERY-th after (default 1: each),
  so a test can stop a worker while a message that will finish is in hand.

A point reached says so on stderr (`failpoint NAME@TOPIC reached at PARTITION@OFFSET`), and a delay
that ended says `released`, so a test knows which message was in hand when it sent a signal."""

import asyncio
import os
import sys
from collections import Counter

EXIT_CODE = 86


def _armed() -> frozenset[str]:
    return frozenset(p.strip() for p in os.environ.get("GIFTCERT_FAILPOINTS", "").split(",") if p.strip())


ARMED = _armed()
DELAY_SECONDS = float(os.environ.get("GIFTCERT_FAILPOINT_DELAY_SECONDS", "1"))
DELAY_EVERY = max(1, int(os.environ.get("GIFTCERT_FAILPOINT_DELAY_EVERY", "1")))
_reached: Counter[str] = Counter()


def _is_armed(name: str, where: str | None) -> bool:
    return name in ARMED or (where is not None and f"{name}@{where}" in ARMED)


def _announce(name: str, where: str | None, at: str | None, what: str = "reached") -> None:
    place = f" at {at}" if at else ""
    sys.stderr.write(f"failpoint {name}{'@' + where if where else ''} {what}{place}\n")
    sys.stderr.flush()


def failpoint(name: str, where: str | None = None) -> None:
    """Exits the process at once, with EXIT_CODE, where the point is armed."""
    if _is_armed(name, where):
        _announce(name, where, None)
        os._exit(EXIT_CODE)


async def stall_point(name: str, where: str | None = None, at: str | None = None) -> None:
    """Waits until cancelled where the point is armed; `at` names the message (partition@offset)."""
    if _is_armed(name, where):
        _announce(name, where, at)
        await asyncio.Event().wait()


async def delay_point(name: str, where: str | None = None, at: str | None = None) -> None:
    """Waits DELAY_SECONDS where the point is armed, the first time and every DELAY_EVERY-th after,
    then lets the work go on."""
    if not _is_armed(name, where):
        return
    _reached[name] += 1
    if (_reached[name] - 1) % DELAY_EVERY == 0:
        _announce(name, where, at)
        await asyncio.sleep(DELAY_SECONDS)
        _announce(name, where, at, "released")
