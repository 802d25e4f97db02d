"""The web pages, served by the HTTP API's app: the public purchase portal (`/portal/{workspace}`),
its test payment page on the embedded stack, and the operator console (`/console/{workspace}`).
Server-rendered (Jinja2), with a few lines of our own JavaScript; every command goes through the
same operations and ledger decisions as the API (decision 23)."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from giftcert_services.web.bulk_jobs import BulkJobs
from giftcert_services.web.config import WebSettings
from giftcert_services.web.pages import STATIC, Web


def mount_web(app: FastAPI, settings: WebSettings | None = None) -> None:
    from giftcert_services.web import balance, console, console_admin, operators, portal, test_payments  # noqa: PLC0415

    app.state.web = Web.of(settings or WebSettings())
    app.state.bulk_jobs = BulkJobs()
    for router in (portal.router, balance.router, test_payments.router, console.router, console_admin.router):
        app.include_router(router)
    app.add_exception_handler(operators.SignInRequiredError, operators.to_sign_in)
    app.add_exception_handler(operators.FormRefusedError, operators.form_refused)
    app.mount("/web-static", StaticFiles(directory=STATIC), name="web-static")
