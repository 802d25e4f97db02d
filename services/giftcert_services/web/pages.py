"""Renders the pages: one Jinja2 environment with autoescape on for every template, so customer
text (names, messages) is always shown as text; every page goes out with the Content-Security-Policy
and the other security headers.

A page is in the visitor's language when their Accept-Language names one the catalogs have, else in
the workspace's locale (libs/giftcert/locales: `negotiate`); its texts come from the catalogs (`_`),
its money, dates and numbers from Babel for that locale."""

import functools
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from giftcert.domain.money import Amount
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.locales import (
    DEFAULT_LOCALE,
    KIND_LABELS,
    SUPPORTED,
    Language,
    gettext_noop,
    is_known,
    language,
    negotiate,
    pgettext_noop,
)
from giftcert_contracts.currencies import MINOR_UNIT_DIGITS
from giftcert_services.runtime.bootstrap import Dependencies
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
STATUS_LABELS = {
    "pending": pgettext_noop("certificate status", "Pending"),
    "active": pgettext_noop("certificate status", "Active"),
    "redeemed": pgettext_noop("certificate status", "Redeemed"),
    "voided": pgettext_noop("certificate status", "Voided"),
    "expired": pgettext_noop("certificate status", "Expired"),
}
CHANNEL_LABELS = {"portal": gettext_noop("Portal"), "admin": gettext_noop("Operator")}
ACTIVITY_LABELS = {
    "created": pgettext_noop("activity", "Created"), "purchased": pgettext_noop("activity", "Purchased"),
    "purchased_from_portal": pgettext_noop("activity", "Purchased on the portal"),
    "activated_from_portal": pgettext_noop("activity", "Paid through the portal"),
    "redeemed": pgettext_noop("activity", "Redeemed"), "voided": pgettext_noop("activity", "Voided"),
    "reactivated": pgettext_noop("activity", "Reactivated"), "sent": pgettext_noop("activity", "Email sent"),
    "expired": pgettext_noop("activity", "Expired"), "expiring_soon": pgettext_noop("activity", "Expiring soon"),
    "reminder_sent": pgettext_noop("activity", "Reminder sent"),
}

LEDGER_LABELS = {
    "issued": pgettext_noop("ledger entry", "Issued"), "redeemed": pgettext_noop("ledger entry", "Redeemed"),
    "captured": pgettext_noop("ledger entry", "Captured from a hold"),
    "refunded": pgettext_noop("ledger entry", "Refunded"), "hold": pgettext_noop("ledger entry", "Held"),
    "released": pgettext_noop("ledger entry", "Hold released"),
    "hold_expired": pgettext_noop("ledger entry", "Hold expired"),
}


def major_units(minor: int, currency: str) -> str:
    """`50.00` for 5000 EUR: what an amount field shows."""
    digits = MINOR_UNIT_DIGITS.get(currency, 2)
    whole, fraction = divmod(minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)


def masked_email(email: str) -> str:
    """`r...@example.com`: enough for a buyer to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}...@{domain}"


def page_locale(request: Request, workspace_locale: str | None = None) -> str:
    """The visitor's language if the catalogs have it, else the workspace's (given, or kept by the
    console's operator dependency), else English."""
    default = workspace_locale or getattr(request.state, "workspace_locale", None) or DEFAULT_LOCALE
    return negotiate(request.headers.get("accept-language"), default)


async def workspace_locale(deps: Dependencies, workspace: str) -> str:
    """The workspace's default locale."""
    async with deps.new_uow() as uow:
        return (await uow.workspaces.get_or_default(workspace)).locale


def page_words(request: Request, workspace_locale: str | None = None) -> Language:
    return language(page_locale(request, workspace_locale))


def language_name(tag: str) -> str:
    """`Deutsch (Österreich)` for `de-AT`: a locale named in itself; the tag when Babel knows none."""
    if not is_known(tag):
        return tag
    name = Locale.parse(tag.replace("-", "_")).display_name or tag
    return name[:1].upper() + name[1:]


def language_choices(current: str) -> list[tuple[str, str]]:
    """Each language of the catalogs named in itself (`Deutsch`, `日本語`); `current`'s own tag
    (`de-AT`) stands for its language, so a choice keeps its region's formats."""
    chosen = Locale.parse(current.replace("-", "_")).language if is_known(current) else None
    return [(current, language_name(current)) if code == chosen else (code, language_name(code)) for code in SUPPORTED]


def _labelled(words: Language, labels: dict[str, tuple[str, str]], value: str) -> str:
    """A status', channel's or activity's label in `words`; an unknown value as it is."""
    context, label = labels.get(value, ("", value.replace("_", " ")))
    return words.pgettext(context, label) if context else words.gettext(label)


def _words(context: Context) -> Language:
    words: Language = context["words"]
    return words


@pass_context
def _money(context: Context, minor: int, currency: str) -> str:
    return _words(context).money(Amount(minor, currency))


@pass_context
def _signed_money(context: Context, minor: int, currency: str) -> str:
    """`+€50.00` for value added, `-€20.00` for value taken: a ledger entry's amount."""
    return ("+" if minor > 0 else "") + _words(context).money(Amount(minor, currency))


@pass_context
def _when(context: Context, moment: datetime | None) -> str:
    return "" if moment is None else _words(context).moment(moment)


@pass_context
def _day(context: Context, moment: date) -> str:
    return _words(context).date(moment)


@pass_context
def _number(context: Context, value: int) -> str:
    return _words(context).number(value)


_environment = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
_environment.filters.update(
    money=_money, signed_money=_signed_money, when=_when, day=_day, number=_number, masked=masked_email,
    major=major_units,
)


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


def render(
    request: Request, template: str, status_code: int = 200, *, workspace_locale: str | None = None, **context: Any
) -> HTMLResponse:
    """The page in the visitor's language (`page_locale`); the workspace's locale is `workspace_locale`,
    or that of the `settings` given to the template."""
    web = web_of(request)
    response = HTMLResponse("", status_code=status_code)
    nonce = ensure_csrf_cookie(request, response, web.settings)
    context.setdefault("csrf", {"field": CSRF_FIELD, "token": web.signer.sign("csrf", nonce)})
    settings = context.get("settings")
    if workspace_locale is None and isinstance(settings, WorkspaceSettings):
        workspace_locale = settings.locale
    tag = page_locale(request, workspace_locale)
    words = language(tag)
    context.update(
        words=words, lang=tag, _=words.gettext, ngettext=words.ngettext, pgettext=words.pgettext, percent=words.percent,
        status_label=functools.partial(_labelled, words, STATUS_LABELS),
        kind_label=functools.partial(_labelled, words, KIND_LABELS), kinds=list(KIND_LABELS),
        channel_label=functools.partial(_labelled, words, {k: ("", v) for k, v in CHANNEL_LABELS.items()}),
        activity_label=functools.partial(_labelled, words, ACTIVITY_LABELS),
        entry_label=functools.partial(_labelled, words, LEDGER_LABELS),
        language_name=language_name,
    )
    context.setdefault("languages", language_choices(tag))
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
