"""`giftcert run api` as an operator starts it: a key made by `giftcert apikey create` opens the
API of its workspace, a workspace it does not belong to stays closed, its startup objects are left
out of later garbage collections, and SIGTERM stops the server."""

import asyncio
import re
import signal
import subprocess

import httpx
import pytest

from giftcert.settings import Settings
from tests.e2e.conftest import GIFTCERT, Launcher, environment, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def _until_answering(url: str, timeout: float = 30.0) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(int(timeout / 0.1)):
            try:
                await client.get(url)
            except httpx.TransportError:
                await asyncio.sleep(0.1)
            else:
                return
    raise AssertionError(f"{url} did not answer")


async def test_the_api_process_serves_a_workspace_to_its_key_and_stops_on_sigterm(
    launch: Launcher, settings: Settings
) -> None:
    made = subprocess.run(
        [GIFTCERT, "apikey", "create", "tours-e2e", "--scope", "admin"],
        env=environment(settings), capture_output=True, text=True, timeout=60, check=False,
    )
    assert made.returncode == 0, made.stderr
    secret = re.search(r"gck_[A-Za-z0-9_\-]+", made.stdout)
    assert secret, made.stdout
    port = free_port()
    api = launch("api", api_port=str(port))
    base = f"http://127.0.0.1:{port}/v1/workspaces"
    await _until_answering(f"http://127.0.0.1:{port}/openapi.json")
    headers = {"Authorization": f"Bearer {secret[0]}"}
    async with httpx.AsyncClient() as client:
        own = await client.get(f"{base}/tours-e2e/settings", headers=headers)
        other = await client.get(f"{base}/someone-else/settings", headers=headers)
        anonymous = await client.get(f"{base}/tours-e2e/settings")
    assert (own.status_code, other.status_code, anonymous.status_code) == (200, 403, 401)
    assert own.json()["workspace_id"] == "tours-e2e"
    assert "startup objects left out of garbage collections" in api.output
    # uvicorn shuts down gracefully, then re-raises SIGTERM to itself: the exit status says SIGTERM.
    assert api.stop() in {0, -signal.SIGTERM}, api.output[-3000:]
    assert "Application shutdown complete" in api.output


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:2000]
    return found[1]


async def _purchase_answers(base: str, workspace: str, visitors: list[str]) -> list[int]:
    """One purchase form per visitor, each sent by a proxy (this client) naming it in X-Forwarded-For.
    The form has no payment page to go to (503) unless the per-address limit refuses it first (429)."""
    answers = []
    async with httpx.AsyncClient(base_url=base, headers={"Origin": base}) as proxy:
        page = (await proxy.get(f"/portal/{workspace}")).text
        for visitor in visitors:
            form = {"csrf_token": _token(page), "amount": "50", "purchaser_name": "Pat", "purchaser_email":
                    "pat@example.com", "recipient_name": "Robin", "recipient_email": "robin@example.com"}
            sent = await proxy.post(f"/portal/{workspace}/purchase", data=form, headers={"X-Forwarded-For": visitor})
            answers.append(sent.status_code)
    return answers


async def test_only_a_trusted_proxy_names_the_visitor_whose_per_address_limit_counts(
    launch: Launcher, settings: Settings
) -> None:
    workspace = "proxied-e2e"
    opened = subprocess.run(
        [GIFTCERT, "workspace", "set", workspace, "--portal"],
        env=environment(settings), capture_output=True, text=True, timeout=60, check=False,
    )
    assert opened.returncode == 0, opened.stderr
    visitors = ["203.0.113.7", "203.0.113.7", "198.51.100.9"]
    answers = {}
    for trusted in ("127.0.0.1", ""):
        port = free_port()
        api = launch("api", api_port=str(port), api_trusted_proxies=trusted, portal_purchase_limit="1")
        await _until_answering(f"http://127.0.0.1:{port}/openapi.json")
        answers[trusted] = await _purchase_answers(f"http://127.0.0.1:{port}", workspace, visitors)
        api.stop()
    # trusted: each visitor has a limit of its own; the second form of the first visitor is refused
    assert answers["127.0.0.1"] == [503, 429, 503]
    # untrusted: the header is ignored, every form counts against the proxy's own address
    assert answers[""] == [503, 429, 429]

