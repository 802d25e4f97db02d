"""The embedded stack's reaper (giftcert.embedded.reaper), once its parent is gone: SIGTERM to every
process it watches, then SIGKILL to any that shrugged SIGTERM off (a JVM whose shutdown hangs)."""

import os
import subprocess
import sys
import time

from giftcert.embedded.reaper import _reap, forget, watch

STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
POLITE = "import time; print('up', flush=True); time.sleep(60)"


def _start(code: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"up\n"  # its handlers are in place
    return process


def test_a_process_that_ignores_sigterm_is_killed_once_the_parent_is_gone() -> None:
    stubborn, polite = _start(STUBBORN), _start(POLITE)
    read_end, write_end = os.pipe()
    os.close(write_end)  # the parent is gone
    started = time.monotonic()
    try:
        _reap(read_end, None, [stubborn.pid, polite.pid], kill_after=1.0)
        assert polite.wait(5) == -15
        assert stubborn.wait(5) == -9
        assert time.monotonic() - started < 10
    finally:
        os.close(read_end)
        for process in (stubborn, polite):
            if process.poll() is None:
                process.kill()
                process.wait()


def test_a_process_watched_after_the_start_is_stopped_and_a_forgotten_one_is_left_alone() -> None:
    """A broker node a test restarted is on the list too (`watch`); one that ended and was
    `forget`-ten is not signalled (its pid could be another process's by then)."""
    restarted, forgotten = _start(POLITE), _start(POLITE)
    read_end, write_end = os.pipe()
    watch(write_end, restarted.pid)
    watch(write_end, forgotten.pid)
    forget(write_end, forgotten.pid)
    os.close(write_end)  # the parent is gone
    try:
        _reap(read_end, None, [], kill_after=1.0)
        assert restarted.wait(5) == -15
        assert forgotten.poll() is None
    finally:
        os.close(read_end)
        for process in (restarted, forgotten):
            if process.poll() is None:
                process.kill()
                process.wait()
