"""Who may use the console: a session made by signing in with a live admin API key of the path's
workspace. A page asked for without one is sent to the sign-in page; a form sent without its CSRF
token, or from another origin, is refused with 403 before anything is read or changed."""

import time
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from giftcert.domain.api_key import ApiKey, Scope
from giftcert.locales import gettext_noop
from giftcert_services.api.access import Deps, WorkspacePath
from giftcert_services.web.pages import render, web_of, workspace_locale
from giftcert_services.web.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    Session,
    csrf_problem,
    read_session,
    secure_cookies,
    session_cookie,
)


class SignInRequiredError(Exception):
    def __init__(self, workspace: str) -> None:
        super().__init__(workspace)
        self.workspace = workspace


class FormRefusedError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def console_path(workspace: str, tail: str = "") -> str:
    return f"/console/{quote(workspace, safe='')}{tail}"


async def _live_admin_key(deps: Deps, session: Session) -> ApiKey | None:
    async with deps.new_uow() as uow:
        keys = await uow.api_keys.of_workspace(session.workspace_id)
    return next(
        (k for k in keys if k.id == session.key_id and k.revoked_at is None and k.scope.allows(Scope.ADMIN)), None
    )


async def operator(request: Request, workspace: WorkspacePath, deps: Deps) -> Session:
    """The signed-in operator; the console's pages then read in the workspace's locale unless the
    operator's browser asks for a language the catalogs have."""
    session = read_session(request.cookies.get(SESSION_COOKIE), web_of(request).signer, workspace)
    if session is None or await _live_admin_key(deps, session) is None:
        raise SignInRequiredError(workspace)
    request.state.workspace_locale = await workspace_locale(deps, workspace)
    return session


Operator = Annotated[Session, Depends(operator)]


async def checked_form(request: Request) -> FormData:
    """The POST's form, once its origin and CSRF token are good."""
    web = web_of(request)
    form = await request.form()
    token = form.get(CSRF_FIELD)
    problem = csrf_problem(request, token if isinstance(token, str) else None, web.signer, web.settings)
    if problem is not None:
        raise FormRefusedError(problem)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def actor_of(session: Session) -> str:
    return f"console: {session.label} ({session.key_id})"[:200]


def start_session(request: Request, response: Response, key: ApiKey) -> None:
    web = web_of(request)
    expires = time.time() + web.settings.console_session_minutes * 60
    value = session_cookie(Session(key.workspace_id, key.id, key.label, expires), web.signer)
    response.set_cookie(
        SESSION_COOKIE, value, max_age=web.settings.console_session_minutes * 60, httponly=True,
        samesite="strict", secure=secure_cookies(request, web.settings), path=console_path(key.workspace_id),
    )


def end_session(request: Request, response: Response, workspace: str) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=console_path(workspace), httponly=True, samesite="strict",
        secure=secure_cookies(request, web_of(request).settings),
    )


def to_sign_in(_: Request, error: Exception) -> Response:
    workspace = error.workspace if isinstance(error, SignInRequiredError) else ""
    return RedirectResponse(console_path(workspace, "/sign-in"), status_code=303)


def form_refused(request: Request, error: Exception) -> HTMLResponse:
    detail = error.detail if isinstance(error, FormRefusedError) else gettext_noop("Refused")
    return render(request, "refused.html", status_code=403, message=detail)
