"""The pages in process, through httpx, on the API suite's database (tests/api/conftest.py): each
test gets a workspace of its own, its portal open, and an admin key."""

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from giftcert.domain.api_key import Scope
from giftcert.operations.api_keys import create_api_key
from giftcert.settings import Settings
from giftcert_services.api.app import build_api
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.web.config import WebSettings
from giftcert_services.web.pages import Web
from tests.api.conftest import api_database_url, api_deps, api_settings  # noqa: F401 - fixtures
from tests.scenario import configure

pytestmark = pytest.mark.integration
ORIGIN = "http://giftcert.test"
PURCHASE_LIMIT = 5


@pytest.fixture(scope="session")
def web_app(api_settings: Settings, api_deps: Dependencies) -> FastAPI:  # noqa: F811
    app = build_api(api_settings, deps=api_deps)
    app.state.web = Web.of(WebSettings(portal_test_payments=True, portal_purchase_limit=PURCHASE_LIMIT))
    return app


@pytest.fixture
async def browser(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies and sends the site's own Origin, as a browser on the page would."""
    address = f"10.1.{secrets.randbelow(256)}.{secrets.randbelow(256)}"  # each test its own purchase limit
    transport = httpx.ASGITransport(app=web_app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers={"Origin": ORIGIN}) as client:
        yield client


@dataclass
class Shop:
    workspace: str
    admin_key: str
    portal_key: str


@pytest.fixture
async def shop(api_deps: Dependencies, workspace: str) -> Shop:  # noqa: F811
    await configure(api_deps.engine, workspace)
    admin = await create_api_key(api_deps.new_uow(), workspace, Scope.ADMIN, "operator", api_deps.clock.now())
    portal = await create_api_key(api_deps.new_uow(), workspace, Scope.PORTAL, "portal", api_deps.clock.now())
    return Shop(workspace, admin.secret, portal.secret)


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found[1]


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, html[:2000]
    return found[1]


async def sign_in(browser: httpx.AsyncClient, shop: Shop) -> None:
    page = await browser.get(f"/console/{shop.workspace}/sign-in")
    signed = await browser.post(
        f"/console/{shop.workspace}/sign-in", data={"csrf_token": csrf_token(page.text), "api_key": shop.admin_key}
    )
    assert signed.status_code == 303, signed.text
