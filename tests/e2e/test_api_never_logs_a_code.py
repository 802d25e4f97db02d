"""`giftcert run api` never writes a full code to its log, and never puts one in a URL it builds.

A real certificate's code, in several spellings, goes to every route of the API process's own
OpenAPI document: where it belongs (the body of a search), and where a careless client would put it
(the query string, the path instead of a certificate id, a trailing-slash path, a reason, an
Idempotency-Key header); a redemption and a balance inquiry, by the API and by the portal's
page. The process runs at DEBUG, in JSON and in text; afterwards no line of its
stdout or stderr holds any spelling of the code, and no response header (a Location, a Link) nor
any URL in a response body does."""

import re
import subprocess
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from giftcert.domain.codes import display_code
from giftcert.settings import Settings
from tests.e2e.conftest import GIFTCERT, Launcher, environment, free_port
from tests.e2e.test_api_process import _until_answering

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

WORKSPACE = "tours-codes"


def spellings(code: str) -> list[str]:
    shown = display_code(code)
    return [code, code.lower(), shown, shown.lower(), shown.replace("-", " "), shown.replace("-", "%20")]


def _key(settings: Settings, scope: str) -> str:
    made = subprocess.run(
        [GIFTCERT, "apikey", "create", WORKSPACE, "--scope", scope],
        env=environment(settings), capture_output=True, text=True, timeout=60, check=False,
    )
    assert made.returncode == 0, made.stderr
    secret = re.search(r"gck_[A-Za-z0-9_\-]+", made.stdout)
    assert secret, made.stdout
    return secret[0]


def _purchase(**changes: Any) -> dict[str, Any]:
    return {
        "certificate_id": str(uuid4()), "amount": {"minor": 5000, "currency": "EUR"},
        "purchaser": {"name": "Pat", "email": "pat@example.com"},
        "recipient": {"name": "Robin", "email": "robin@example.com"},
    } | changes


_BODIES: tuple[tuple[tuple[str, ...], Callable[[str], dict[str, Any]]], ...] = (
    (("/purchases", "/certificates"), lambda code: _purchase(message=f"your code is {code}")),
    (("/search", "/balance"), lambda code: {"code": code}),
    (("/redemptions",), lambda code: {"request_id": str(uuid4()), "order_id": f"order-{uuid4().hex[:8]}", "code": code,
                                      "order_total": {"minor": 9000, "currency": "EUR"}}),
    (("/payments",), lambda _: {"payment_reference": f"till-{uuid4().hex[:8]}"}),
    (("/void", "/reactivate"), lambda code: {"reason": f"the customer read out {code}"}),
    (("/products", "/products/{product_id}"), lambda code: {"name": f"Product {code}", "fixed_amounts": [5000]}),
    (("/settings",), lambda code: {"name": f"Tours {code}"}),
)


def _body(method: str, template: str, code: str) -> dict[str, Any] | None:
    """A body the route accepts, with the code wherever a client could put it."""
    if method == "GET":
        return None
    return next((make(code) for ends, make in _BODIES if template.endswith(ends)), {})


def _requests(template: str, code: str, ids: dict[str, str]) -> Iterator[tuple[str, dict[str, str] | None]]:
    """(path and query, extra headers) of the calls of one route with one spelling of the code."""
    for certificate in (ids["certificate_id"], code):
        path = template.replace("{certificate_id}", certificate).replace("{product_id}", ids["product_id"])
        path = path.replace("{workspace}", WORKSPACE)
        for url in (path, f"{path}?code={code}", f"{path}/?code={code}"):
            yield url, {"Idempotency-Key": code}
        yield path, None


def _urls_in(value: Any) -> Iterator[str]:
    if isinstance(value, str) and (value.startswith("/") or "://" in value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _urls_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _urls_in(item)


async def _balance_pages(client: httpx.AsyncClient, root: str, code: str) -> list[httpx.Response]:
    """The portal's balance check page with each spelling: in its form, as it belongs, and in the
    query string, where a careless link would put it."""
    answers = []
    for spelling in spellings(code):
        page = await client.get(f"{root}/portal/{WORKSPACE}/balance")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:1000]
        for url in (f"{root}/portal/{WORKSPACE}/balance", f"{root}/portal/{WORKSPACE}/balance?code={spelling}"):
            answer = await client.post(url, data={"csrf_token": token[1], "code": spelling}, headers={"Origin": root})
            assert answer.status_code in {200, 404}, answer.text[-2000:]  # `ABCD%20EFGH...` is no code
            answers.append(answer)
    assert any(answer.status_code == 200 for answer in answers)
    return answers


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_no_route_writes_a_code_to_the_log_or_into_a_url(
    launch: Launcher, settings: Settings, log_format: str
) -> None:
    admin = {"Authorization": f"Bearer {_key(settings, 'admin')}"}
    portal = {"Authorization": f"Bearer {_key(settings, 'portal')}"}
    port = free_port()
    api = launch("api", "--log-level", "DEBUG", api_port=str(port), log_format=log_format)
    root = f"http://127.0.0.1:{port}"
    base = f"{root}/v1/workspaces/{WORKSPACE}"
    await _until_answering(f"{root}/openapi.json")
    async with httpx.AsyncClient(follow_redirects=False, timeout=30) as client:
        assert (await client.patch(f"{base}/settings", headers=admin, json={"portal_enabled": True})).is_success
        issued = (await client.post(f"{base}/certificates", headers=admin, json=_purchase())).json()
        paid = await client.post(
            f"{base}/certificates/{issued['certificate_id']}/payments", headers=admin,
            json={"payment_reference": "till-1"},
        )
        code, certificate_id = paid.json()["code"], issued["certificate_id"]
        product_id = (await client.post(f"{base}/products", headers=admin, json={"name": "P", "fixed_amounts": [5000]}
                                        )).json()["product_id"]
        routes = [
            (method.upper(), template)
            for template, operations in (await client.get(f"{root}/openapi.json")).json()["paths"].items()
            for method in operations
        ]
        assert len(routes) >= 19  # every route of the API
        ids = {"certificate_id": certificate_id, "product_id": product_id}
        answers = [
            await client.request(
                method, f"{root}{url}", headers=(portal if "/portal/" in template else admin) | (extra or {}),
                json=_body(method, template, spelling),
            )
            for method, template in routes
            for spelling in spellings(code)
            for url, extra in _requests(template, spelling, ids)
        ]
        answers += await _balance_pages(client, root, code)
    assert api.stop() in {0, -15}, api.output[-3000:]

    assert all(answer.status_code < 500 for answer in answers), [a.text for a in answers if a.status_code >= 500]
    log = api.output
    assert "HTTP/1.1" in log  # the access log is on, so it was checked
    for spelling in spellings(code):
        leaked = [number for number, line in enumerate(log.splitlines(), 1) if spelling in line]
        assert not leaked, f"the code ...{code[-4:]} is on these lines of the API's log"
    for answer in answers:
        for name, value in answer.headers.items():
            assert not any(s in value for s in spellings(code)), (name, answer.request.url.path)
        if answer.headers.get("content-type", "").startswith("application/json"):
            for url in _urls_in(answer.json()):
                assert not any(s in url for s in spellings(code)), answer.request.url.path
    assert any(answer.request.url.path.endswith("/search") and answer.json()["certificates"] for answer in answers)
