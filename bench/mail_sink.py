"""`python -m bench.mail_sink FOLDER PORT [remove-at-exit]`: the SMTP sink in a process of its own,
so that writing the benchmark's emails costs the load generator nothing; it runs until SIGTERM
(sent by the benchmark, or by the kernel when the benchmark dies), and with `remove-at-exit` it
removes FOLDER on the way out (a folder in /dev/shm would otherwise hold memory until a reboot)."""

import shutil
import signal
import sys
import threading
from pathlib import Path

from giftcert.mail.sink import MailFolderSink

REMOVED_AT_EXIT = "remove-at-exit"


def main() -> None:
    folder, port, *options = sys.argv[1:]
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        with MailFolderSink(Path(folder), port=int(port)):
            stopped.wait()
    finally:
        if REMOVED_AT_EXIT in options:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
