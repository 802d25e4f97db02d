"""The operator console's sign-in and certificates: search (code in any spelling, emails, status,
kind, dates) a keyset page at a time, the search's whole selection as a CSV file (no code: it is the
API's export), a certificate's page with its activity and the orders it paid
for (each with what it applied, by the order's own look-up), and its commands (void,
reactivate, record an offline payment, resend, download the PDF), each through the same operation
the API's route calls."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, cast, get_args
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from giftcert.delivery.pdf import DocumentNotAvailableError, UnknownCertificateError, certificate_pdf
from giftcert.delivery.resend import CertificateNotSendableError, resend_certificate_email
from giftcert.domain.api_key import Scope
from giftcert.domain.certificate import Kind, Status
from giftcert.domain.codes import display_code
from giftcert.locales import gettext_noop
from giftcert.operations.api_keys import authenticate
from giftcert.operations.details import certificate_details
from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.export import export_certificates, export_file_name
from giftcert.operations.issuing import record_offline_payment
from giftcert.operations.orders import CertificateContribution, OrderNotFoundError, order_details
from giftcert.operations.search import CertificateSearch, InvalidCursorError, SearchPage, search_certificates
from giftcert.operations.voiding import decide_operator_command
from giftcert_contracts.inbound import ReactivateCertificate, VoidCertificate
from giftcert_services.api.access import Deps, Sender, WorkspacePath
from giftcert_services.web.operators import (
    CheckedForm,
    Operator,
    actor_of,
    console_path,
    end_session,
    start_session,
)
from giftcert_services.web.pages import render, workspace_locale
from giftcert_services.web.portal import not_found

router = APIRouter(prefix="/console/{workspace}", include_in_schema=False)
Text = Annotated[str, Query(max_length=320, pattern=r"^[^\x00-\x1f\x7f]*$")]
DONE = {
    "voided": gettext_noop("The certificate is voided."),
    "reactivated": gettext_noop("The certificate is active again."),
    "sent": gettext_noop("The email is on its way to the recipient."),
    "paid": gettext_noop("The payment is recorded; the certificate is active."),
    "issued": gettext_noop("The certificate is made."),
}
MAX_ORDERS_SHOWN = 50
NO_SUCH_CERTIFICATE = gettext_noop("No such certificate in this workspace.")
REFUSED_BECAUSE = {
    "not_active": gettext_noop("A pending certificate cannot be voided: it has not been paid yet."),
    "already_redeemed": gettext_noop("The certificate has already been used."),
    "already_voided": gettext_noop("The certificate is already voided."),
    "expired": gettext_noop("The certificate's expiry date has passed."),
    "held": gettext_noop(
        "Part of its value is held for a booking: the hold must be captured or released first."
    ),
    "not_voided": gettext_noop("Only a voided certificate can be reactivated."),
    "unpaid": gettext_noop("The certificate was voided because it was never paid: issue a new one."),
    "not_pending": gettext_noop("Only a certificate waiting for its payment can be paid."),
    "payment_reference_used": gettext_noop("This payment reference was already recorded for another payment."),
}
"""What the page says, in the operator's language, for a refusal's reason (the ledger's detail, in
English, where a reason is not among these)."""
NOT_SENDABLE = gettext_noop("Only an active certificate is sent.")
CODE_NOT_IN_AN_ADDRESS = gettext_noop(
    "Find a certificate by its code with the form above: a code never goes in an address."
)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, workspace: WorkspacePath, deps: Deps) -> Response:
    return render(request, "console/sign_in.html", workspace=workspace, error=None,
                  workspace_locale=await workspace_locale(deps, workspace))


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request, workspace: WorkspacePath, deps: Deps, form: CheckedForm) -> Response:
    secret = str(form.get("api_key") or "").strip()
    key = await authenticate(deps.new_uow(), secret) if secret else None
    if key is None or key.workspace_id != workspace or not key.scope.allows(Scope.ADMIN):
        return render(request, "console/sign_in.html", status_code=401, workspace=workspace,
                      error=gettext_noop("This is not a live admin API key of this workspace."),
                      workspace_locale=await workspace_locale(deps, workspace))
    response = RedirectResponse(console_path(workspace), status_code=303)
    start_session(request, response, key)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, workspace: WorkspacePath, _: CheckedForm) -> Response:
    response = RedirectResponse(console_path(workspace, "/sign-in"), status_code=303)
    end_session(request, response, workspace)
    return response


def _day(text: str, *, end: bool = False) -> datetime | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)


def _search(workspace: str, filters: dict[str, str], *, limit: int = 25, after: str = "") -> CertificateSearch:
    """The list's filters as a search; ValueError (its message for `_()`) for a kind or status not in the lists."""
    kind, status = filters["kind"], filters["status"]
    if kind and kind not in get_args(Kind):
        raise ValueError(gettext_noop("Choose a kind from the list."))
    return CertificateSearch(
        workspace_id=workspace, purchaser_email=filters["purchaser_email"] or None,
        recipient_email=filters["recipient_email"] or None, status=Status(status) if status else None,
        kind=cast("Kind", kind) if kind else None,
        created_from=_day(filters["created_from"]), created_to=_day(filters["created_to"], end=True),
        expires_from=_day(filters["expires_from"]), expires_to=_day(filters["expires_to"], end=True),
        limit=limit, after=after or None,
    )


@router.get("/certificates", response_class=HTMLResponse)
async def certificates(
    request: Request, workspace: WorkspacePath, deps: Deps, session: Operator,
    purchaser_email: Text = "", recipient_email: Text = "", status: Text = "", created_from: Text = "",
    created_to: Text = "", after: Text = "", kind: Text = "", expires_from: Text = "", expires_to: Text = "",
) -> Response:
    """The list, a page at a time, by every filter but the code: a code is a bearer secret and an
    address is kept by browsers' histories and proxies' logs, so it is looked up by `find_by_code`'s
    form body (contract v2: a code never travels in a URL)."""
    filters = {"purchaser_email": purchaser_email, "recipient_email": recipient_email, "status": status,
               "kind": kind, "created_from": created_from, "created_to": created_to,
               "expires_from": expires_from, "expires_to": expires_to}
    if "code" in request.query_params:
        return _list_page(request, workspace, session, filters, error=CODE_NOT_IN_AN_ADDRESS, status_code=422)
    error, page = None, None
    try:
        query = _search(workspace, filters, after=after)
        async with deps.engine.connect() as connection:
            page = await search_certificates(connection, query)
    except InvalidCursorError:
        error = gettext_noop("That page link is no longer valid; showing the first page.")
    except ValueError as problem:
        error = str(problem)
    return _list_page(request, workspace, session, filters, page=page, error=error, first_page=not after)


@router.post("/certificates/find", response_class=HTMLResponse)
async def find_by_code(
    request: Request, workspace: WorkspacePath, deps: Deps, session: Operator, form: CheckedForm
) -> Response:
    """The certificate of a code typed in any spelling (dashes, spaces, lower case), taken from the
    form's body: its page, or the list with why not."""
    code = str(form.get("code") or "").strip()
    filters = dict.fromkeys(("purchaser_email", "recipient_email", "status", "kind", "created_from",
                             "created_to", "expires_from", "expires_to"), "")
    if not code or len(code) > 64:  # noqa: PLR2004 - the API's bound
        return _list_page(request, workspace, session, filters, status_code=422,
                          error=gettext_noop("Enter the code printed on your certificate, like ABCD-EFGH-JKMN."))
    try:
        async with deps.engine.connect() as connection:
            page = await search_certificates(connection, CertificateSearch(workspace_id=workspace, code=code, limit=1))
    except ValueError as problem:
        return _list_page(request, workspace, session, filters, error=str(problem), status_code=422)
    if not page.certificates:
        return _list_page(request, workspace, session, filters, status_code=404,
                          error=gettext_noop("We know of no certificate with this code. Check it and try again."))
    return RedirectResponse(console_path(workspace, f"/certificates/{page.certificates[0].id}"), status_code=303)


def _list_page(
    request: Request, workspace: str, session: Any, filters: dict[str, str], *, page: SearchPage | None = None,
    error: str | None = None, status_code: int = 200, first_page: bool = True,
) -> Response:
    return render(
        request, "console/certificates.html", status_code=status_code, workspace=workspace, session=session,
        filters=filters, page=page, error=error, statuses=[s.value for s in Status], first_page=first_page,
    )


@router.get("/certificates/export")
async def export(
    request: Request, workspace: WorkspacePath, deps: Deps, _: Operator, purchaser_email: Text = "",
    recipient_email: Text = "", status: Text = "", kind: Text = "", created_from: Text = "", created_to: Text = "",
    expires_from: Text = "", expires_to: Text = "",
) -> Response:
    """What the list's filters select, every page, as the API's export writes it (never a code). A
    GET: the session cookie is SameSite=Strict."""
    selected = {"purchaser_email": purchaser_email, "recipient_email": recipient_email, "status": status,
                "kind": kind, "created_from": created_from, "created_to": created_to,
                "expires_from": expires_from, "expires_to": expires_to}
    try:
        query = _search(workspace, selected)
    except ValueError as problem:
        return render(request, "refused.html", status_code=422, message=str(problem))
    return StreamingResponse(
        export_certificates(deps.engine, query), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{export_file_name(workspace, deps.clock.now())}"',
            "Cache-Control": "no-store",
        },
    )


async def _certificate_page(
    request: Request, workspace: str, deps: Deps, session: Any, certificate_id: UUID, *,
    notice: str | None = None, error: str | None = None, status_code: int = 200,
) -> Response:
    try:
        details = await certificate_details(deps.new_uow(), workspace, certificate_id, now=deps.clock.now())
    except CertificateNotFoundError:
        return not_found(request, NO_SUCH_CERTIFICATE)
    return render(
        request, "console/certificate.html", status_code=status_code, workspace=workspace, session=session,
        details=details, c=details.certificate, code=display_code(details.certificate.code),
        notice=notice, error=error, orders=await _contributions(deps, workspace, certificate_id, details.orders),
    )


async def _contributions(
    deps: Deps, workspace: str, certificate_id: UUID, orders: list[str]
) -> list[tuple[str, CertificateContribution | None]]:
    """Each order the certificate paid for, first paid first, with what it contributed (applied net
    of refunds, held now) as the order's look-up tells it; the first MAX_ORDERS_SHOWN orders only."""
    shown: list[tuple[str, CertificateContribution | None]] = []
    for order_id in orders[:MAX_ORDERS_SHOWN]:
        try:
            order = await order_details(deps.new_uow(), workspace, order_id, deps.clock.now())
        except OrderNotFoundError:
            shown.append((order_id, None))
            continue
        mine = [c for c in order.certificates if c.certificate_id == certificate_id]
        shown.append((order_id, mine[0] if mine else None))
    return shown


@router.get("/certificates/{certificate_id}", response_class=HTMLResponse)
async def certificate(
    request: Request, workspace: WorkspacePath, deps: Deps, session: Operator, certificate_id: UUID,
    done: Text = "",
) -> Response:
    return await _certificate_page(request, workspace, deps, session, certificate_id, notice=DONE.get(done))


def _after(workspace: str, certificate_id: UUID, done: str) -> Response:
    return RedirectResponse(console_path(workspace, f"/certificates/{certificate_id}?done={done}"), status_code=303)


@router.post("/certificates/{certificate_id}/{decision}", response_class=HTMLResponse)
async def decide(
    request: Request, workspace: WorkspacePath, deps: Deps, send: Sender, session: Operator, form: CheckedForm,
    certificate_id: UUID, decision: str,
) -> Response:
    reason = str(form.get("reason") or "").strip()
    try:
        if decision in {"void", "reactivate"}:
            if not reason:
                raise CommandRefusedError("invalid", gettext_noop("Give a reason: it is kept in the activity log."))
            model = VoidCertificate if decision == "void" else ReactivateCertificate
            command = model(workspace_id=workspace, request_id=uuid4(), certificate_id=certificate_id,
                            reason=reason[:500], actor=actor_of(session))
            await decide_operator_command(command, deps.new_uow, deps.clock)
            return _after(workspace, certificate_id, "voided" if decision == "void" else "reactivated")
        if decision == "payment":
            reference = str(form.get("payment_reference") or "").strip()
            if not reference or len(reference) > 128:  # noqa: PLR2004 - the contract's ExternalId
                raise CommandRefusedError(
                    "invalid", gettext_noop("Give the payment's reference (1 to 128 characters).")
                )
            await record_offline_payment(workspace, certificate_id, reference, deps.new_uow, deps.clock)
            return _after(workspace, certificate_id, "paid")
        if decision == "resend":
            await resend_certificate_email(workspace, certificate_id, deps.new_uow, deps.clock, send,
                                           mail_from=deps.settings.mail_from)
            return _after(workspace, certificate_id, "sent")
    except CommandRefusedError as refusal:
        return await _certificate_page(request, workspace, deps, session, certificate_id,
                                       error=REFUSED_BECAUSE.get(refusal.reason, refusal.detail), status_code=409)
    except CertificateNotSendableError:
        return await _certificate_page(request, workspace, deps, session, certificate_id,
                                       error=NOT_SENDABLE, status_code=409)
    except CertificateNotFoundError:
        return not_found(request, NO_SUCH_CERTIFICATE)
    return not_found(request)


@router.get("/certificates/{certificate_id}/pdf")
async def pdf(request: Request, workspace: WorkspacePath, deps: Deps, _: Operator, certificate_id: UUID) -> Response:
    try:
        content = await certificate_pdf(deps.new_uow, workspace, certificate_id)
    except (UnknownCertificateError, CertificateNotFoundError):
        return not_found(request, NO_SUCH_CERTIFICATE)
    except DocumentNotAvailableError as problem:
        return render(request, "refused.html", status_code=409, message=str(problem))
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{certificate_id}.pdf"', "Cache-Control": "no-store",
    })
