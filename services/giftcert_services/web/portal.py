"""The public purchase portal, `/portal/{workspace}`: no key; a workspace whose portal is off is a
404. A purchase is decided by the ledger exactly as a `purchase-requested` message with the same
certificate id (the form's hidden id, so a form sent twice buys once); then the buyer is handed to
the payment system, whose `payment-completed` activates the certificate. The status page follows
the certificate (pending -> active -> sent) by polling its status, without a reload.

The pages speak the visitor's language (pages.page_locale); the form's language choice, the
`locale` of the purchase, is the recipient's: it starts at the page's."""

from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.product import Product, offered_products
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.locales import Language, gettext_noop
from giftcert.operations.details import certificate_details
from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.issuing import issue_certificate
from giftcert_services.api.access import Deps, WorkspacePath
from giftcert_services.web.forms import PurchaseForm, minor_units, purchase_command
from giftcert_services.web.pages import (
    STATUS_LABELS,
    major_units,
    masked_email,
    page_locale,
    page_words,
    render,
    secure,
    web_of,
)
from giftcert_services.web.security import CSRF_FIELD, csrf_problem, own_origin

router = APIRouter(prefix="/portal/{workspace}", include_in_schema=False)
SegmentQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
_FIELDS = ("amount", "amount_minor", "purchaser_name", "purchaser_email", "recipient_name", "recipient_email",
           "message", "segment", "certificate_id", "locale")


async def _portal(deps: Deps, workspace: str, segment: str | None) -> tuple[WorkspaceSettings, list[Product]] | None:
    async with deps.new_uow() as uow:
        settings = await uow.workspaces.get_or_default(workspace)
        every = await uow.products.of_workspace(workspace)
    products = offered_products(every, segment)
    if not products and any(p.active for p in every):  # a workspace with products sells only them
        products = [_NOTHING_ON_SALE]
    return (settings, products) if settings.portal_enabled else None


_NOTHING_ON_SALE = Product(id=UUID(int=0), workspace_id="", name="nothing", fixed_amounts=(1,), active=False)
"""Stands for "this workspace sells products, none of them to this segment": the form is not shown."""


def not_found(request: Request, what: str = gettext_noop("This page does not exist.")) -> HTMLResponse:
    return render(request, "not_found.html", status_code=404, message=what)


def _form_page(
    request: Request, workspace: str, settings: WorkspaceSettings, products: list[Product], form: PurchaseForm,
    status_code: int = 200,
) -> HTMLResponse:
    if products == [_NOTHING_ON_SALE]:
        return render(request, "portal/nothing_on_sale.html", status_code=404, workspace=workspace, settings=settings)
    fixed = sorted({(amount, p.name) for p in products for amount in p.fixed_amounts})
    ranges = [(p.name, p.min_minor, p.max_minor) for p in products if not p.fixed_amounts]
    free_amount = not products or bool(ranges)
    return render(
        request, "portal/form.html", status_code=status_code, workspace=workspace, settings=settings,
        fixed=fixed, ranges=ranges, free_amount=free_amount, form=form,
    )


@router.get("", response_class=HTMLResponse)
async def purchase_form(
    request: Request, workspace: WorkspacePath, deps: Deps, segment: SegmentQuery = None
) -> Response:
    portal = await _portal(deps, workspace, segment or None)
    if portal is None:
        return not_found(request)
    values = dict.fromkeys(_FIELDS, "") | {
        "certificate_id": str(uuid4()), "segment": segment or "", "locale": page_locale(request, portal[0].locale),
    }
    return _form_page(request, workspace, *portal, PurchaseForm(values))


@router.post("/purchase", response_class=HTMLResponse)
async def purchase(request: Request, workspace: WorkspacePath, deps: Deps) -> Response:
    web = web_of(request)
    received = await request.form()
    values = {name: str(received.get(name) or "").strip() for name in _FIELDS}
    values["message"] = str(received.get("message") or "").replace("\r\n", "\n").strip()
    portal = await _portal(deps, workspace, values["segment"] or None)
    if portal is None:
        return not_found(request)
    settings, products = portal
    form = PurchaseForm(values)
    problem = csrf_problem(request, str(received.get(CSRF_FIELD) or ""), web.signer, web.settings)
    if problem is not None:
        form.errors["form"] = problem
        return _form_page(request, workspace, settings, products, form, 403)
    client = request.client.host if request.client else "unknown"
    wait = web.purchases.retry_after(client)
    if wait is not None:
        response = render(request, "portal/too_many.html", status_code=429, workspace=workspace, wait=wait)
        response.headers["Retry-After"] = str(wait)
        return response
    if not web.settings.portal_payment_url and not web.settings.portal_test_payments:
        form.errors["form"] = gettext_noop("Online payment is not available at the moment; please contact us.")
        return _form_page(request, workspace, settings, products, form, 503)
    command = _command(form, workspace, settings, deps, page_words(request, settings.locale))
    if command is None:
        return _form_page(request, workspace, settings, products, form, 422)
    try:
        issued = await issue_certificate(command, deps.new_uow, deps.clock)
    except CommandRefusedError as refusal:
        field = "amount" if refusal.reason in {"amount_out_of_range", "currency_not_supported"} else "form"
        form.errors[field] = refusal.detail
        return _form_page(request, workspace, settings, products, form, 409)
    if issued.certificate.status is not Status.PENDING:
        return RedirectResponse(_status_path(workspace, issued.certificate.id), status_code=303)
    return RedirectResponse(_payment_url(request, workspace, issued.certificate), status_code=303)


def _command(form: PurchaseForm, workspace: str, settings: WorkspaceSettings, deps: Deps, words: Language) -> Any:
    values = form.values
    typed = values["amount"] or values["amount_minor"]
    if not typed:
        form.errors["amount"] = gettext_noop("Choose or enter an amount.")
    amount = (
        minor_units(values["amount"], settings.currency) if values["amount"]
        else (int(values["amount_minor"]) if values["amount_minor"].isdigit() else None)
    )
    if typed and amount is None:
        form.errors["amount"] = words.gettext("Enter an amount in {currency}, like 50 or 50.00.").format(
            currency=settings.currency
        )
    try:
        certificate_id = UUID(values["certificate_id"])
    except ValueError:
        certificate_id = uuid4()
        values["certificate_id"] = str(certificate_id)
    command = purchase_command(form, {
        "workspace_id": workspace, "certificate_id": certificate_id,
        "amount": {"minor": amount if amount is not None else 1, "currency": settings.currency},
        "purchaser": {"name": values["purchaser_name"], "email": values["purchaser_email"]},
        "recipient": {"name": values["recipient_name"], "email": values["recipient_email"]},
        "message": values["message"] or None, "segment": values["segment"] or None,
        "locale": values["locale"] or None, "channel": "portal", "requested_at": deps.clock.now(),
    })
    return None if form.errors else command


def _status_path(workspace: str, certificate_id: UUID) -> str:
    return f"/portal/{quote(workspace, safe='')}/certificates/{certificate_id}"


def _payment_url(request: Request, workspace: str, certificate: Certificate) -> str:
    web = web_of(request)
    return_url = own_origin(request, web.settings) + _status_path(workspace, certificate.id)
    template = web.settings.portal_payment_url or (
        "/portal/{workspace}/test-payment/{certificate_id}?return_url={return_url}"
    )
    fields = {
        "certificate_id": str(certificate.id), "amount_minor": str(certificate.amount.minor),
        "amount": major_units(certificate.amount.minor, certificate.amount.currency),
        "currency": certificate.amount.currency, "workspace": workspace, "return_url": return_url,
    }
    return template.format_map({name: quote(value, safe="") for name, value in fields.items()})


_STATUS_TEXTS = {
    "pending": gettext_noop("Waiting for your payment..."),
    "active": gettext_noop("Paid: your certificate is active. Sending it..."),
    "redeemed": gettext_noop("This certificate has been used."),
    "voided": gettext_noop("This certificate was cancelled."),
    "expired": gettext_noop("This certificate has expired."),
}


async def _public_status(
    request: Request, deps: Deps, workspace: str, certificate_id: UUID
) -> dict[str, Any] | None:
    try:
        details = await certificate_details(deps.new_uow(), workspace, certificate_id)
    except CertificateNotFoundError:
        return None
    certificate = details.certificate
    async with deps.new_uow() as uow:
        settings = await uow.workspaces.get_or_default(workspace)
    emailed = settings.send_activation_email
    words = page_words(request, settings.locale)
    sent = [entry for entry in details.activity if entry.kind is ActivityKind.SENT]
    status = certificate.status.value
    text = words.gettext(_STATUS_TEXTS[status])
    if certificate.status is Status.ACTIVE and sent:
        text = words.gettext("Active: sent to {email}").format(email=masked_email(certificate.recipient_email))
    elif certificate.status is Status.ACTIVE and not emailed:  # the workspace delivers it itself
        text = words.gettext("Paid: your certificate is active. We will send it to the recipient.")
    done = certificate.status is not Status.PENDING and (
        certificate.status is not Status.ACTIVE or bool(sent) or not emailed
    )
    return {
        "status": status, "label": words.pgettext(*STATUS_LABELS[status]), "text": text, "done": done,
        "amount": words.money(certificate.amount), "workspace_locale": settings.locale,
        "expires_at": certificate.expires_at.isoformat() if certificate.expires_at else None,
    }


@router.get("/certificates/{certificate_id}", response_class=HTMLResponse)
async def status_page(request: Request, workspace: WorkspacePath, deps: Deps, certificate_id: UUID) -> Response:
    if await _portal(deps, workspace, None) is None:
        return not_found(request)
    status = await _public_status(request, deps, workspace, certificate_id)
    if status is None:
        return not_found(request, gettext_noop("We know of no such purchase."))
    return render(request, "portal/status.html", workspace=workspace, certificate_id=certificate_id, status=status,
                  workspace_locale=status.pop("workspace_locale"))


@router.get("/certificates/{certificate_id}/status")
async def status_json(request: Request, workspace: WorkspacePath, deps: Deps, certificate_id: UUID) -> Response:
    status = await _public_status(request, deps, workspace, certificate_id)
    if status is not None:
        del status["workspace_locale"]
    response = JSONResponse(status or {"error": "not_found"}, status_code=200 if status else 404)
    secure(response, web_of(request))
    return response
