"""Child processes that must not outlive the process that started them, even one killed with
SIGKILL (which runs no clean-up of its own): the kernel sends them SIGTERM when it dies
(PR_SET_PDEATHSIG). Pass `die_with_parent` as `preexec_fn`; it runs in the child between fork and
exec and makes one system call. The signal comes when the thread that started the child exits, so
start such children from the main thread."""

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
