"""`giftcert demo` and `giftcert dev` as a newcomer runs them: the embedded stack starts, works, and
everything it started is gone afterwards, on a clean exit, on Ctrl-C and when the command is killed."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import GIFTCERT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain `text` (the var folder, the broker's port)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        if cmdline.parent.name == str(os.getpid()):
            continue
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(command)
    return found


def _wait_until_gone(text: str, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := _processes_mentioning(text)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_demo_walks_certificates_through_their_life_and_stops_everything(tmp_path: Path) -> None:
    var = tmp_path / "demo"
    done = subprocess.run(
        [GIFTCERT, "demo", "--var-dir", str(var)], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for event in (
        "certificate-created", "certificate-activated", "pdf-ready", "certificate-sent", "redemption-rejected",
        "certificate-redeemed", "certificate-voided", "certificate-reactivated", "certificate-expired",
        "hold-placed", "hold-released", "certificate-refunded",
    ):
        assert f"<- giftcert.{event}" in done.stdout, event
    pdf = Path(re.search(r"PDF:\s+(\S+)", done.stdout)[1])  # type: ignore[index]
    email = Path(re.search(r"email:\s+(\S+)", done.stdout)[1])  # type: ignore[index]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert b"Content-Type: application/pdf" in email.read_bytes()
    assert not _wait_until_gone(str(var))


def _answers(url: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return httpx.get(url, timeout=5).status_code == httpx.codes.OK
        except httpx.TransportError:
            time.sleep(0.2)
    return False


def _start_dev(var: Path, log: Path, api_port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = os.environ | {"GIFTCERT_API_PORT": str(api_port)}
    with log.open("wb") as sink:
        dev = subprocess.Popen(
            [GIFTCERT, "dev", "--var-dir", str(var)], stdout=sink, stderr=subprocess.STDOUT, env=env
        )
    deadline = time.monotonic() + 120
    while "Ctrl-C stops everything" not in (printed := log.read_text(errors="replace")):
        if dev.poll() is not None or time.monotonic() > deadline:
            dev.kill()
            raise AssertionError(printed)
        time.sleep(0.2)
    assert "database URL: postgresql+asyncpg://" in printed, printed
    assert f"mail folder:  {var.resolve() / 'mail'}" in printed, printed
    assert f"HTTP API:     http://127.0.0.1:{api_port}/docs" in printed, printed
    assert f"portal:       http://127.0.0.1:{api_port}/portal/WORKSPACE" in printed, printed
    assert f"console:      http://127.0.0.1:{api_port}/console/WORKSPACE" in printed, printed
    broker = re.search(r"broker:\s+(\S+)", printed)
    assert broker, printed
    return dev, broker[1]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "kill"])
def test_dev_runs_the_stack_until_stopped_and_leaves_nothing_running(tmp_path: Path, stop: signal.Signals) -> None:
    var = tmp_path / "var"
    api_port = free_port()
    dev, broker = _start_dev(var, tmp_path / "dev.log", api_port)
    try:
        port = broker.rsplit(":", 1)[1]
        assert _answers(f"http://127.0.0.1:{api_port}/openapi.json"), "the HTTP API does not answer"
        assert _answers(f"http://127.0.0.1:{api_port}/console/tours/sign-in"), "the console does not answer"
        assert [c for c in _processes_mentioning(str(var)) if "postgres -D" in c], "PostgreSQL is not running"
        assert _processes_mentioning(f"127.0.0.1:{port}"), "the broker is not running"
        dev.send_signal(stop)
        dev.wait(60)
    finally:
        if dev.poll() is None:
            dev.send_signal(signal.SIGINT)
            dev.wait(60)
    assert not _wait_until_gone(str(var))
    assert not _wait_until_gone(f"127.0.0.1:{port}")
