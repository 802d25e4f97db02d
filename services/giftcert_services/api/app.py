"""Builds the HTTP API: the portal's and operators' routes over the same operations the CLI uses.

`build_api(settings)` opens its database pool when the server starts and closes it when it stops;
tests may pass `deps` (and a `send_email`) of their own instead. `after_startup` runs once the pool
is set up, before the first request (`giftcert run api` leaves the startup's objects out of later
garbage collections there, as the workers do: runtime/heap.py). The access log never holds a code
(access_log.py). `/healthz`, `/readyz` (the database
answers) and `/metrics` are served too, outside the OpenAPI document: they are for probes and
Prometheus, not for clients."""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from giftcert.mail.sender import SendEmail, smtp_sender
from giftcert.settings import Settings
from giftcert_services.api import balance, booking, certificates, orders, portal, reports, workspace_settings
from giftcert_services.api.access_log import redact_access_log
from giftcert_services.api.problems import install_problem_handlers
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap
from giftcert_services.runtime.health import database_answers, health_routes, schema_serves_this_release
from giftcert_services.web import mount_web

TITLE = "giftcert HTTP API"
DESCRIPTION = (
    "The public portal (scope `portal`), the booking platform's checkout (scope `booking`: redemptions and "
    "the balance inquiry) and operators' tools (scope `admin`, which reaches every route) of the "
    "gift-certificate service. Authenticate with `Authorization: Bearer <API key>`; keys are made with "
    "`giftcert apikey create WORKSPACE --scope admin|portal|booking`. Every refusal is a JSON body "
    '`{"error": {"code": ..., "detail": ...}}`. Every command takes an idempotency key (its body\'s key '
    "field or an `Idempotency-Key` header): the same key with the same body gets the first answer, with "
    "another body 409 `idempotency_key_reused`. A code never travels in a URL: search by code with "
    "`POST .../certificates/search`."
)
VERSION = "1.0.0"


def build_api(
    settings: Settings, *, deps: Dependencies | None = None, send_email: SendEmail | None = None,
    after_startup: Callable[[], None] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = deps is None
        app.state.deps = deps or bootstrap(settings)
        if after_startup is not None:
            after_startup()
        try:
            yield
        finally:
            if own:
                await app.state.deps.close()

    redact_access_log()
    # No redirect to the path with(out) a trailing slash: it would echo the query string, whatever it
    # holds, in a Location header the API itself built.
    app = FastAPI(title=TITLE, description=DESCRIPTION, version=VERSION, lifespan=lifespan, redirect_slashes=False)
    app.state.deps = deps
    app.state.send_email = send_email or smtp_sender(settings)
    install_problem_handlers(app)
    for router in (portal.router, certificates.router, workspace_settings.router, reports.router, booking.router,
                   balance.router):
        app.include_router(router)
    app.include_router(orders.router)
    mount_web(app)  # the portal's and console's pages (giftcert_services.web), outside the OpenAPI document

    async def database() -> bool:
        current: Dependencies | None = app.state.deps
        return current is not None and await database_answers(current.engine)

    async def schema() -> bool:
        current: Dependencies | None = app.state.deps
        return current is not None and await schema_serves_this_release(current.engine)

    for route in health_routes({"database": database, "schema": schema}):
        app.add_route(route.path, route.endpoint, methods=list(route.methods or ()), include_in_schema=False)
    return app


def openapi_document() -> str:
    """The OpenAPI document (what docs/openapi.json holds; `make openapi` regenerates it)."""
    return json.dumps(build_api(Settings()).openapi(), indent=2, sort_keys=True) + "\n"
