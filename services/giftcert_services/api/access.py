"""Who may call a route: a bearer API key of the path's workspace with the route's scope (admin
allows every scope; booking the booking platform's routes; portal the portal's; both the balance).

401 without a live key, 403 with a key of another workspace or a scope too small. The key's
workspace is compared with the path before anything is read, so a key sees nothing of another
workspace, not even whether a certificate id exists there."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from giftcert.domain.api_key import ApiKey, Scope
from giftcert.mail.sender import SendEmail
from giftcert.operations.api_keys import authenticate
from giftcert_services.api.problems import ApiError
from giftcert_services.runtime.bootstrap import Dependencies

_bearer = HTTPBearer(auto_error=False, description="An API key made by `giftcert apikey create`.")

WorkspacePath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$", description="Workspace id")
]


def dependencies(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.deps
    return deps


Deps = Annotated[Dependencies, Depends(dependencies)]


def email_sender(request: Request) -> SendEmail:
    send: SendEmail = request.app.state.send_email
    return send


Sender = Annotated[SendEmail, Depends(email_sender)]


def api_key(scope: Scope, *others: Scope) -> Callable[..., Awaitable[ApiKey]]:
    """A key of the path's workspace whose scope allows `scope` or one of `others`."""
    wanted = (scope, *others)
    named = " or ".join(s.value for s in wanted)

    async def check(
        workspace: WorkspacePath,
        deps: Deps,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiKey:
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, "unauthenticated", "send an API key as `Authorization: Bearer <key>`", challenge)
        key = await authenticate(deps.new_uow(), credentials.credentials)
        if key is None:
            raise ApiError(401, "unauthenticated", "this API key is unknown or revoked", challenge)
        if key.workspace_id != workspace:
            raise ApiError(403, "forbidden", "this API key belongs to another workspace")
        if not any(key.scope.allows(s) for s in wanted):
            raise ApiError(403, "forbidden", f"this route needs a key of scope {named}, not {key.scope.value}")
        return key

    return check


PortalKey = Annotated[ApiKey, Depends(api_key(Scope.PORTAL))]
AdminKey = Annotated[ApiKey, Depends(api_key(Scope.ADMIN))]
BookingKey = Annotated[ApiKey, Depends(api_key(Scope.BOOKING))]
BalanceKey = Annotated[ApiKey, Depends(api_key(Scope.PORTAL, Scope.BOOKING))]
"""The balance inquiry: the portal's, the booking platform's and (as admin allows all) operators' keys."""


def actor_of(key: ApiKey) -> str:
    """How the activity log names an operator acting through the API."""
    return f"api key {key.label} ({key.id})"[:200]
