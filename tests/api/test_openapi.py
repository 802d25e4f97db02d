"""The committed OpenAPI document is the app's, and schemathesis, generating requests from it
against a real server (uvicorn, real PostgreSQL), never gets a 500."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from giftcert.domain.api_key import Scope
from giftcert.operations.api_keys import create_api_key
from giftcert.settings import Settings
from giftcert_services.api.app import build_api, openapi_document
from giftcert_services.runtime.bootstrap import bootstrap
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.integration

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"
schema = schemathesis.openapi.from_dict(json.loads(openapi_document()))


def test_the_committed_openapi_document_is_current() -> None:
    assert DOCUMENT.read_text() == openapi_document(), "docs/openapi.json is stale: run `make openapi`"


@pytest.fixture(scope="module")
def served(api_settings: Settings) -> Iterator[str]:
    """`build_api` behind a real uvicorn server in a thread: its own event loop and database pool."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_api(api_settings), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def admin_headers(api_settings: Settings) -> tuple[str, dict[str, str]]:
    workspace = "schemathesis"

    async def make() -> str:
        deps = bootstrap(api_settings)
        try:
            return (await create_api_key(deps.new_uow(), workspace, Scope.ADMIN, "fuzz", deps.clock.now())).secret
        finally:
            await deps.close()

    return workspace, {"Authorization": f"Bearer {asyncio.run(make())}"}


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_get_a_server_error(
    case: schemathesis.Case, served: str, admin_headers: tuple[str, dict[str, str]]
) -> None:
    workspace, headers = admin_headers
    if "workspace" in (case.path_parameters or {}):
        case.path_parameters["workspace"] = workspace  # past the key check, into the routes themselves
    case.call_and_validate(base_url=served, headers=headers, checks=[not_a_server_error])
