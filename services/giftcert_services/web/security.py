"""What keeps the pages safe: the Content-Security-Policy, signed CSRF tokens, the Origin check,
the console's signed session cookie and the portal's per-address purchase limit.

- CSRF: a random nonce in an HttpOnly, SameSite=Strict cookie; every form carries HMAC(secret,
  nonce). A POST is refused (403) unless the token matches the cookie and its Origin (or, without
  one, its Referer) is this site's own.
- Sessions: the cookie holds the workspace, the admin key's id and an expiry, signed with HMAC; it is
  checked on every request, and the key must still be live (a revoked key ends its sessions at once).
  Signing out deletes the cookie; a copy taken before lives until its expiry (decision 23).
- The purchase limit counts one client address's purchase forms in a sliding window, in this process."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass
from uuid import UUID

from fastapi import Request, Response

from giftcert.locales import gettext_noop
from giftcert_services.web.config import WebSettings

CSRF_COOKIE = "gc_csrf"
SESSION_COOKIE = "gc_session"
CSRF_FIELD = "csrf_token"


def content_security_policy(form_targets: tuple[str, ...] = ()) -> str:
    """No inline script or style anywhere; forms post to this site (and the payment page, if set)."""
    forms = " ".join(("'self'", *form_targets))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action {forms}"
    )


class Signer:
    def __init__(self, settings: WebSettings) -> None:
        given = settings.console_session_secret
        self._key = given.get_secret_value().encode() if given else secrets.token_bytes(32)

    def sign(self, purpose: str, text: str) -> str:
        digest = hmac.new(self._key, f"{purpose}\n{text}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def verify(self, purpose: str, text: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(purpose, text), signature)


def own_origin(request: Request, settings: WebSettings) -> str:
    if settings.public_origin:
        return settings.public_origin.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def secure_cookies(request: Request, settings: WebSettings) -> bool:
    return own_origin(request, settings).startswith("https://")


def csrf_nonce(request: Request) -> str | None:
    return request.cookies.get(CSRF_COOKIE)


def ensure_csrf_cookie(request: Request, response: Response, settings: WebSettings) -> str:
    """The request's CSRF nonce, set as a cookie when it had none; returns the nonce."""
    nonce = csrf_nonce(request)
    if nonce is None or len(nonce) != 43:  # noqa: PLR2004 - token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=secure_cookies(request, settings), path="/"
        )
    return nonce


def same_origin(request: Request, settings: WebSettings) -> bool:
    expected = own_origin(request, settings)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == expected
    referer = request.headers.get("referer")
    return referer is not None and (referer == expected or referer.startswith(f"{expected}/"))


def csrf_problem(request: Request, token: str | None, signer: Signer, settings: WebSettings) -> str | None:
    """Why this POST is refused (in English, marked for the catalogs), or None when its token and
    origin are good."""
    if not same_origin(request, settings):
        return gettext_noop("This form was sent from another site.")
    nonce = csrf_nonce(request)
    if not nonce or not token or not signer.verify("csrf", nonce, token):
        return gettext_noop("This form has expired or was not sent from this site. Reload the page and try again.")
    return None


@dataclass(frozen=True, slots=True)
class Session:
    workspace_id: str
    key_id: UUID
    label: str
    expires_at: float


def session_cookie(session: Session, signer: Signer) -> str:
    body = base64.urlsafe_b64encode(
        json.dumps([session.workspace_id, str(session.key_id), session.label, session.expires_at]).encode()
    ).decode()
    return f"{body}.{signer.sign('session', body)}"


def read_session(value: str | None, signer: Signer, workspace_id: str) -> Session | None:
    """The session the cookie holds, if its signature is ours, it is of this workspace and not expired."""
    if not value or "." not in value:
        return None
    body, signature = value.rsplit(".", 1)
    if not signer.verify("session", body, signature):
        return None
    try:
        workspace, key_id, label, expires_at = json.loads(base64.urlsafe_b64decode(body))
        session = Session(str(workspace), UUID(key_id), str(label), float(expires_at))
    except (ValueError, TypeError):
        return None
    if session.workspace_id != workspace_id or session.expires_at <= time.time():
        return None
    return session


class SlidingWindowLimit:
    """At most `limit` events per key in any `window_seconds`; keys unseen for a window are dropped."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._events: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Counts this event and returns None, or refuses it and returns the seconds to wait."""
        now = time.monotonic() if now is None else now
        if len(self._events) > 10_000:  # noqa: PLR2004 - forget the quiet addresses
            self._events = {k: v for k, v in self._events.items() if v and v[-1] > now - self.window}
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return max(1, int(events[0] + self.window - now) + 1)
        events.append(now)
        return None
