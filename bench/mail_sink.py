"""`python -m bench.mail_sink FOLDER PORT`: the SMTP sink in a process of its own, so that writing
the benchmark's emails costs the load generator nothing; it runs until SIGTERM."""

import signal
import sys
import threading
from pathlib import Path

from giftcert.mail.sink import MailFolderSink


def main() -> None:
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with MailFolderSink(Path(sys.argv[1]), port=int(sys.argv[2])):
        stopped.wait()


if __name__ == "__main__":
    main()
