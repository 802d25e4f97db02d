"""The whole embedded stack as one context manager: PostgreSQL, the broker and the reaper.
Everything started is stopped on every exit path: normal exit, an exception, Ctrl-C, SIGTERM
(turned into SystemExit when we own the main thread) and, through the reaper, SIGKILL."""

import os
import signal
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

from giftcert.embedded.broker import EmbeddedBroker
from giftcert.embedded.postgres import EmbeddedPostgres
from giftcert.embedded.reaper import start_reaper


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    del frame
    raise SystemExit(128 + signum)


class EmbeddedStack:
    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir.resolve()
        self.postgres = EmbeddedPostgres()
        self.broker = EmbeddedBroker(self.var_dir / "log")
        self.database_url = ""
        self.bootstrap_servers = ""
        self._reaper_pipe: int | None = None

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            self.database_url = self.postgres.start(self.var_dir / "postgres")
            self.bootstrap_servers = self.broker.start()
            assert self.broker.process is not None  # noqa: S101
            assert self.postgres.pgdata is not None  # noqa: S101
            assert self.postgres.pid is not None  # noqa: S101
            _, self._reaper_pipe = start_reaper(self.postgres.pgdata, [self.broker.process.pid, self.postgres.pid])
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        try:
            self.broker.stop()
        finally:
            self.postgres.stop()
            if self._reaper_pipe is not None:
                os.close(self._reaper_pipe)
                self._reaper_pipe = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
