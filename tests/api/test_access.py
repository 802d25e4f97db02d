"""No route is reachable without a live key of the path's workspace and the route's scope. The
walk covers every route of the OpenAPI document, so a route added later is covered too."""

import re
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from giftcert.domain.api_key import Scope
from giftcert.operations.api_keys import create_api_key
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, active_certificate, new_key

pytestmark = pytest.mark.integration
BOOKING_PATHS = tuple(f"/v1/workspaces/{{workspace}}/{name}" for name in ("holds", "captures", "releases", "refunds"))
"""Where the booking platform's later commands go (contract v2): booking scope too, when they come."""


SCOPES_BY_TAG = {"portal": {Scope.PORTAL}, "booking": {Scope.BOOKING}, "balance": {Scope.PORTAL, Scope.BOOKING}}
"""The scopes besides admin that reach a route, by its OpenAPI tag; a route of any other tag is admin's."""


def _routes(app: FastAPI) -> list[tuple[str, str, set[Scope]]]:
    """(method, path template, the scopes that reach it) of every route the OpenAPI document lists:
    what the app serves under /v1."""
    found = [
        (method.upper(), path, {Scope.ADMIN}.union(*(SCOPES_BY_TAG.get(tag, set()) for tag in operation["tags"])))
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
    ]
    assert len(found) >= 21
    return found


def _url(template: str, workspace: str, certificate_id: str) -> str:
    url = template.replace("{workspace}", workspace).replace("{certificate_id}", certificate_id)
    return re.sub(r"\{[a-z_]+\}", str(uuid4()), url)


async def _call(http: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    return await http.request(method, url, headers=headers, json={} if method in {"POST", "PUT", "PATCH"} else None)


async def test_every_route_refuses_a_missing_malformed_or_unknown_key_with_401(
    http: httpx.AsyncClient, api_app: FastAPI, shop: Shop
) -> None:
    for method, template, _ in _routes(api_app):
        url = _url(template, shop.workspace, str(uuid4()))
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer gck_not-a-key"}):
            refused = await _call(http, method, url, headers)
            assert refused.status_code == 401, (method, template, headers, refused.text)
            assert refused.json()["error"]["code"] == "unauthenticated"
            assert refused.headers["www-authenticate"] == "Bearer"


async def test_a_key_of_another_workspace_sees_nothing_of_this_one(
    http: httpx.AsyncClient, api_app: FastAPI, shop: Shop, other_shop: Shop
) -> None:
    certificate = await active_certificate(http, shop)
    for method, template, _ in _routes(api_app):
        url = _url(template, shop.workspace, certificate["certificate_id"])
        for headers in (other_shop.admin, other_shop.portal):
            refused = await _call(http, method, url, headers)
            assert refused.status_code == 403, (method, template, refused.text)
            assert certificate["code"] not in refused.text
    own_search = await http.post(f"{other_shop.base}/certificates/search", headers=other_shop.admin,
                                 json={"code": certificate["code"]})
    assert own_search.json()["certificates"] == []
    own_detail = await http.get(f"{other_shop.base}/certificates/{certificate['certificate_id']}",
                                headers=other_shop.admin)
    assert own_detail.status_code == 404


async def test_each_scope_reaches_its_routes_only_and_an_admin_key_every_route(
    http: httpx.AsyncClient, api_app: FastAPI, api_deps: Dependencies, shop: Shop
) -> None:
    keys = {Scope.ADMIN: shop.admin, Scope.PORTAL: shop.portal, Scope.BOOKING: await new_key(
        api_deps, shop.workspace, Scope.BOOKING)}
    routes = _routes(api_app)
    assert {scope for _, _, scopes in routes for scope in scopes} == set(Scope)
    for method, template, scopes in routes:
        url = _url(template, shop.workspace, str(uuid4()))
        for scope, headers in keys.items():
            answered = await _call(http, method, url, headers)
            if scope in scopes:
                assert answered.status_code not in {401, 403}, (scope, method, template, answered.text)
            else:
                assert answered.status_code == 403, (scope, method, template, answered.text)
                assert f"not {scope.value}" in answered.json()["error"]["detail"]


def test_the_booking_scope_reaches_the_booking_platforms_routes_and_the_balance_only(api_app: FastAPI) -> None:
    booking = {(method, path) for method, path, scopes in _routes(api_app) if Scope.BOOKING in scopes}
    assert booking == {
        ("POST", "/v1/workspaces/{workspace}/redemptions"), ("POST", "/v1/workspaces/{workspace}/balance"),
    } | {(method, path) for method, path, _ in _routes(api_app) if path.startswith(BOOKING_PATHS)}


async def test_a_revoked_key_is_refused(http: httpx.AsyncClient, api_deps: Dependencies, shop: Shop) -> None:
    created = await create_api_key(api_deps.new_uow(), shop.workspace, Scope.ADMIN, "leaving", api_deps.clock.now())
    headers = {"Authorization": f"Bearer {created.secret}"}
    assert (await http.get(f"{shop.base}/settings", headers=headers)).status_code == 200
    async with api_deps.new_uow() as uow:
        assert await uow.api_keys.revoke(shop.workspace, created.key.id, api_deps.clock.now())
        await uow.commit()
    assert (await http.get(f"{shop.base}/settings", headers=headers)).status_code == 401
