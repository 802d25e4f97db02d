"""The whole embedded stack as one context manager: PostgreSQL, the broker and the reaper.
Everything started is stopped on every exit path: normal exit, an exception, Ctrl-C, SIGTERM
(turned into SystemExit when we own the main thread) and, through the reaper, SIGKILL.

The broker is Tansu (one process, no JVM, starts in a blink) or Apache Kafka (giftcert.embedded.kafka,
what production runs); Kafka where Java or Maven is missing falls back to Tansu, saying so in one line."""

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Literal, Self

from giftcert.embedded.broker import EmbeddedBroker
from giftcert.embedded.kafka import EmbeddedKafka, unavailable_reason
from giftcert.embedded.postgres import EmbeddedPostgres
from giftcert.embedded.reaper import start_reaper

BrokerKind = Literal["kafka", "tansu"]
Broker = EmbeddedBroker | EmbeddedKafka
BROKER_KINDS: tuple[BrokerKind, ...] = ("kafka", "tansu")

log = logging.getLogger("giftcert.embedded")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    del frame
    raise SystemExit(128 + signum)


def embedded_broker(
    kind: BrokerKind, folder: Path, *, say: Callable[[str], None] = log.warning
) -> Broker:
    """The broker of that kind, not started; Tansu in place of a Kafka this machine cannot run."""
    if kind == "kafka":
        if reason := unavailable_reason():
            say(f"Apache Kafka cannot run here ({reason}): using Tansu instead")
            return EmbeddedBroker(folder)
        return EmbeddedKafka(folder)
    return EmbeddedBroker(folder)


class EmbeddedStack:
    def __init__(self, var_dir: Path, *, broker: BrokerKind = "tansu") -> None:
        self.var_dir = var_dir.resolve()
        self.postgres = EmbeddedPostgres()
        folder = self.var_dir / "log" if broker == "tansu" else self.var_dir / "kafka"
        self.broker = embedded_broker(broker, folder)
        self.database_url = ""
        self.bootstrap_servers = ""
        self._reaper_pipe: int | None = None

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            self.database_url = self.postgres.start(self.var_dir / "postgres")
            self.bootstrap_servers = self.broker.start()
            assert self.postgres.pgdata is not None  # noqa: S101
            assert self.postgres.pid is not None  # noqa: S101
            _, self._reaper_pipe = start_reaper(self.postgres.pgdata, [*self.broker.pids, self.postgres.pid])
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
