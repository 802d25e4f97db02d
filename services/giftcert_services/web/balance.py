"""The portal's balance check, `/portal/{workspace}/balance`: a visitor types a certificate's code
and sees what it is worth now. The same operation as `POST .../balance` of the API
(giftcert.operations.balance), limited by the workspace's code-guessing count and, as an order is,
by the visitor's address; a form without its token or from another site is refused (403). The code
goes in the form's body, never in a URL, and is not written back into the page."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from giftcert.locales import gettext_noop
from giftcert.operations.balance import BalanceInquiry, CodeNotFoundError, TooManyAttemptsError, inquire_balance
from giftcert_services.api.access import Deps, WorkspacePath
from giftcert_services.web.pages import page_words, render, web_of
from giftcert_services.web.portal import not_found
from giftcert_services.web.security import CSRF_FIELD, csrf_problem

router = APIRouter(prefix="/portal/{workspace}", include_in_schema=False)
_STATUS_TEXT = {
    "pending": gettext_noop("Not paid yet: it cannot be used until its payment arrives."),
    "active": gettext_noop("Active: it can be used for a booking."),
    "redeemed": gettext_noop("Used up: nothing is left on it."),
    "voided": gettext_noop("Cancelled: it cannot be used."),
    "expired": gettext_noop("Expired: it cannot be used any more."),
}


async def _portal_open(request: Request, deps: Deps, workspace: str) -> bool:
    """Whether the workspace's portal is on; its pages then read in its locale (pages.page_locale)."""
    async with deps.new_uow() as uow:
        settings = await uow.workspaces.get_or_default(workspace)
    request.state.workspace_locale = settings.locale
    return settings.portal_enabled


def _page(request: Request, workspace: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context = {"error": None, "found": None, "status_text": _STATUS_TEXT} | context
    return render(request, "portal/balance.html", status_code=status_code, workspace=workspace, **context)


@router.get("/balance", response_class=HTMLResponse)
async def balance_form(request: Request, workspace: WorkspacePath, deps: Deps) -> Response:
    if not await _portal_open(request, deps, workspace):
        return not_found(request)
    return _page(request, workspace)


@router.post("/balance", response_class=HTMLResponse)
async def check_balance(request: Request, workspace: WorkspacePath, deps: Deps) -> Response:
    if not await _portal_open(request, deps, workspace):
        return not_found(request)
    received = await request.form()
    web = web_of(request)
    problem = csrf_problem(request, str(received.get(CSRF_FIELD) or ""), web.signer, web.settings)
    if problem is not None:
        return _page(request, workspace, 403, error=problem)
    code = str(received.get("code") or "").strip()
    if not code or len(code) > 64:  # noqa: PLR2004 - the API's bound
        return _page(request, workspace, 422,
                     error=gettext_noop("Enter the code printed on your certificate, like ABCD-EFGH-JKMN."))
    client = request.client.host if request.client else "unknown"
    inquiry = BalanceInquiry(workspace, code, asker=client)
    try:
        found = await inquire_balance(inquiry, deps.new_uow(), deps.clock, deps.settings.guessing_limit)
    except CodeNotFoundError:
        return _page(request, workspace, 404,
                     error=gettext_noop("We know of no certificate with this code. Check it and try again."))
    except TooManyAttemptsError as throttled:
        wait = throttled.retry_after_seconds
        response = _page(
            request, workspace, 429,
            error=page_words(request).gettext(
                "Too many codes were tried that we do not know. Please try again in {minutes} minutes."
            ).format(minutes=wait // 60 or 1),
        )
        response.headers["Retry-After"] = str(wait)
        return response
    return _page(request, workspace, found=found)
