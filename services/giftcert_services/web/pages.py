"""Renders the pages: one Jinja2 environment with autoescape on for every template, so customer
text (names, messages) is always shown as text; every page goes out with the Content-Security-Policy
and the other security headers."""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from giftcert.domain.money import Amount
from giftcert_contracts.currencies import MINOR_UNIT_DIGITS
from giftcert_services.web.config import WebSettings
from giftcert_services.web.security import (
    CSRF_FIELD,
    Signer,
    SlidingWindowLimit,
    content_security_policy,
    ensure_csrf_cookie,
)

HERE = Path(__file__).parent
STATIC = HERE / "static"


def money(minor: int, currency: str) -> str:
    return Amount(minor, currency).formatted()


def major_units(minor: int, currency: str) -> str:
    """`50.00` for 5000 EUR: what an amount field shows."""
    digits = MINOR_UNIT_DIGITS.get(currency, 2)
    whole, fraction = divmod(minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def masked_email(email: str) -> str:
    """`r...@example.com`: enough for a buyer to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}...@{domain}"


_environment = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
_environment.filters.update(money=money, when=when, masked=masked_email, major=major_units)


@dataclass
class Web:
    """What the pages share in one API process."""

    settings: WebSettings
    signer: Signer
    purchases: SlidingWindowLimit
    form_targets: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, settings: WebSettings) -> "Web":
        payment_origin = settings.payment_origin()
        return cls(
            settings, Signer(settings),
            SlidingWindowLimit(settings.portal_purchase_limit, settings.portal_purchase_window_seconds),
            (payment_origin,) if payment_origin else (),
        )


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    web = web_of(request)
    response = HTMLResponse("", status_code=status_code)
    nonce = ensure_csrf_cookie(request, response, web.settings)
    context.setdefault("csrf", {"field": CSRF_FIELD, "token": web.signer.sign("csrf", nonce)})
    html = _environment.get_template(template).render(request=request, **context)
    response.body = response.render(html)
    response.headers["content-length"] = str(len(response.body))
    secure(response, web)
    return response


def secure(response: Any, web: Web) -> None:
    response.headers["Content-Security-Policy"] = content_security_policy(web.form_targets)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
