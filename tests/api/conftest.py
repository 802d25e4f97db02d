"""The HTTP API on the real PostgreSQL (a migrated database of its own: no relay of another suite
empties its outbox) with the SMTP sink, called through httpx. Each test gets a workspace of its own
and an admin and a portal key for it, made the way `giftcert apikey create` makes them."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from giftcert.domain.api_key import Scope
from giftcert.mail.sink import MailFolderSink
from giftcert.operations.api_keys import create_api_key
from giftcert.settings import Settings
from giftcert_services.api.app import build_api
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap
from tests.databases import migrated_database_url

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def api_database_url(postgres_server_url: str) -> str:
    return migrated_database_url(postgres_server_url, "api")


@pytest.fixture(scope="session")
def api_settings(api_database_url: str, mail_sink: MailFolderSink) -> Settings:
    return Settings(database_url=api_database_url, smtp_port=mail_sink.port, smtp_host=mail_sink.host)


@pytest.fixture(scope="session")
async def api_deps(api_settings: Settings) -> AsyncIterator[Dependencies]:
    deps = bootstrap(api_settings)
    yield deps
    await deps.close()


@pytest.fixture(scope="session")
def api_app(api_settings: Settings, api_deps: Dependencies) -> FastAPI:
    return build_api(api_settings, deps=api_deps)


@pytest.fixture
async def http(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://giftcert.test") as client:
        yield client


async def new_key(deps: Dependencies, workspace: str, scope: Scope) -> dict[str, str]:
    created = await create_api_key(deps.new_uow(), workspace, scope, f"{scope.value} key of the test", deps.clock.now())
    return {"Authorization": f"Bearer {created.secret}"}


@dataclass
class Shop:
    """A workspace with its portal open and a key of each scope."""

    workspace: str
    admin: dict[str, str]
    portal: dict[str, str]

    @property
    def base(self) -> str:
        return f"/v1/workspaces/{self.workspace}"


@pytest.fixture
async def shop(api_deps: Dependencies, http: httpx.AsyncClient, workspace: str) -> Shop:
    admin = await new_key(api_deps, workspace, Scope.ADMIN)
    shop = Shop(workspace, admin, await new_key(api_deps, workspace, Scope.PORTAL))
    opened = await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"portal_enabled": True})
    assert opened.status_code == 200, opened.text
    return shop


@pytest.fixture
async def other_shop(api_deps: Dependencies) -> Shop:
    other = f"ws-{uuid4().hex[:12]}"
    return Shop(other, await new_key(api_deps, other, Scope.ADMIN), await new_key(api_deps, other, Scope.PORTAL))


def purchase_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "certificate_id": str(uuid4()),
        "amount": {"minor": 5000, "currency": "EUR"},
        "purchaser": {"name": "Pat Buyer", "email": "pat@example.com"},
        "recipient": {"name": "Robin Friend", "email": "robin@example.com"},
        "message": "Happy travels!",
    }
    return body | changes


async def active_certificate(http: httpx.AsyncClient, shop: Shop, **changes: Any) -> dict[str, Any]:
    """Issued by an operator and paid offline: an active certificate, as the admin detail shows it."""
    issued = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body(**changes))
    assert issued.status_code == 201, issued.text
    paid = await http.post(
        f"{shop.base}/certificates/{issued.json()['certificate_id']}/payments",
        headers=shop.admin, json={"payment_reference": f"cash-{uuid4().hex[:8]}"},
    )
    assert paid.status_code == 200, paid.text
    return dict(paid.json())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
