"""Fault injection for the crash tests: `GIFTCERT_FAILPOINTS=name[,name]` makes the process die
(os._exit, like kill -9: no cleanup, no commit) when it reaches a named point. Unset in production.

Points: `after_db_commit` (a consumer committed its transaction, not yet its offset),
`relay_before_publish` (the relay claimed outbox rows, published nothing)."""

import os
import sys

EXIT_CODE = 86


def _armed() -> frozenset[str]:
    return frozenset(p for p in os.environ.get("GIFTCERT_FAILPOINTS", "").split(",") if p)


ARMED = _armed()


def failpoint(name: str) -> None:
    if name in ARMED:
        sys.stderr.write(f"failpoint {name}: exiting now\n")
        sys.stderr.flush()
        os._exit(EXIT_CODE)
