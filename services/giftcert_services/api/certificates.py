"""Operators' certificate routes (scope `admin`): issue, record an offline payment, search, export
a search's selection as CSV, look up, void, reactivate, download the PDF, resend the email.

A code never travels in a URL (proxies and access logs keep URLs): a search by code is
`POST .../certificates/search` with the code in the body; `GET .../certificates` takes every other
filter. Every command takes an idempotency key (idempotency.py)."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from giftcert.delivery.pdf import certificate_pdf
from giftcert.delivery.resend import resend_certificate_email
from giftcert.domain.api_key import ApiKey
from giftcert.operations.details import certificate_details
from giftcert.operations.export import export_certificates, export_file_name
from giftcert.operations.issuing import issue_certificate, record_offline_payment
from giftcert.operations.search import CertificateSearch, search_certificates
from giftcert.operations.voiding import decide_operator_command
from giftcert_contracts.inbound import PurchaseRequested, ReactivateCertificate, VoidCertificate
from giftcert_services.api.access import AdminKey, Deps, Sender, actor_of
from giftcert_services.api.idempotency import KeyHeader, answered_at_least_once, header_key, one_key, text_key
from giftcert_services.api.models import (
    CertificateDetail,
    CertificateSummary,
    DecisionBody,
    ExportFilters,
    IssueBody,
    ListFilters,
    PaymentBody,
    PurchaseBody,
    SearchFilters,
    SearchResult,
    Sent,
)
from giftcert_services.api.problems import ApiError
from giftcert_services.api.responses import CONFLICT, KEYED, NOT_FOUND, REFUSALS, Responses

router = APIRouter(prefix="/v1/workspaces/{workspace}/certificates", tags=["certificates"])


@router.post(
    "", status_code=201,
    responses={**REFUSALS, **CONFLICT, **KEYED, 200: {"model": CertificateDetail, "description": "A repeat."}},
)
async def issue(
    key: AdminKey, deps: Deps, body: IssueBody, response: Response, idempotency_key: KeyHeader = None
) -> CertificateDetail:
    """A certificate made by an operator (channel `admin`, e.g. a phone sale); pending until paid. A
    `promotional` or `credit` one (with a `reason`; a credit names the order it replaces) is issued
    without a payment and is active at once."""
    command = purchase_command(key, body, idempotency_key, channel="admin", now=deps.clock.now())
    issued = await issue_certificate(command, deps.new_uow, deps.clock)
    if not issued.created_now:
        response.status_code = 200
    return await _detail(deps, key.workspace_id, issued.certificate.id)


def _no_key(field: str) -> ApiError:
    return ApiError(422, "invalid", f"the request needs its {field}, in the body or as the Idempotency-Key header")


def purchase_command(
    key: ApiKey, body: PurchaseBody, idempotency_key: str | None, *, channel: str, now: datetime
) -> PurchaseRequested:
    """The `purchase-requested` a purchase body is; its certificate id from the body or the header."""
    certificate_id = one_key(idempotency_key, body.certificate_id, "certificate_id", UUID)
    if certificate_id is None:
        raise _no_key("certificate_id")
    try:
        return PurchaseRequested(
            workspace_id=key.workspace_id, channel=channel, requested_at=now,
            **body.model_dump(exclude={"certificate_id"}), certificate_id=certificate_id,
        )
    except ValidationError as error:  # the contract's rule of kinds (giftcert_contracts.inbound)
        detail = "; ".join(problem["msg"].removeprefix("Value error, ") for problem in error.errors())
        raise ApiError(422, "invalid", detail) from None


@router.post("/{certificate_id}/payments", responses={**REFUSALS, **NOT_FOUND, **CONFLICT, **KEYED})
async def record_payment(
    key: AdminKey, deps: Deps, certificate_id: UUID, body: PaymentBody, idempotency_key: KeyHeader = None
) -> CertificateDetail:
    """An offline payment activates the pending certificate as `payment-completed` would."""
    reference = one_key(idempotency_key, body.payment_reference, "payment_reference", text_key)
    if reference is None:
        raise _no_key("payment_reference")
    await record_offline_payment(key.workspace_id, certificate_id, reference, deps.new_uow, deps.clock)
    return await _detail(deps, key.workspace_id, certificate_id)


_BAD_FILTER: Responses = {422: {"description": "A bad filter or cursor; a `code` in the query string."}}


@router.get("", responses=REFUSALS | _BAD_FILTER)
async def search(key: AdminKey, deps: Deps, filters: Annotated[ListFilters, Query()]) -> SearchResult:
    """Newest first (created_at, then id); `*_from` bounds include, `*_to` bounds exclude. Search by
    code with `POST .../certificates/search`: a code in the query string is refused (422)."""
    return await _search(deps, CertificateSearch(workspace_id=key.workspace_id, **filters.model_dump()))


@router.post("/search", responses=REFUSALS | {422: {"description": "A bad filter or cursor."}})
async def search_by_body(key: AdminKey, deps: Deps, filters: SearchFilters) -> SearchResult:
    """The filters of `GET .../certificates` and a code (any spelling), in the body: a code never
    travels in a URL. Newest first; the same keyset pages (`after` = the previous `next_cursor`)."""
    return await _search(deps, CertificateSearch(workspace_id=key.workspace_id, **filters.model_dump()))


_EXPORTED: Responses = {
    200: {"content": {"text/csv": {}}, "description": "The CSV file, streamed."},
    422: {"description": "A bad filter (a code is not one: a search by code finds one certificate)."},
}


@router.post("/export", response_class=StreamingResponse, responses=REFUSALS | _EXPORTED)
async def export(key: AdminKey, deps: Deps, filters: ExportFilters | None = None) -> StreamingResponse:
    """Every certificate the filters of a search select (no body: all of the workspace's), newest
    first, as CSV (RFC 4180, UTF-8, a header row): certificate_id, kind, status, code_last4, currency,
    value_minor, balance_minor, created_at, activated_at, expires_at, redeemed_at, voided_at,
    expired_at, channel, segment, purchaser_name, purchaser_email, recipient_name, recipient_email,
    payment_id. Never a code; text a spreadsheet could take for a formula starts with `'`."""
    query = CertificateSearch(workspace_id=key.workspace_id, **(filters or ExportFilters()).model_dump())
    return StreamingResponse(
        export_certificates(deps.engine, query), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{export_file_name(key.workspace_id, deps.clock.now())}"',
            "Cache-Control": "no-store",
        },
    )


async def _search(deps: Deps, query: CertificateSearch) -> SearchResult:
    async with deps.engine.connect() as connection:
        page = await search_certificates(connection, query)
    return SearchResult(
        certificates=[CertificateSummary.of(c) for c in page.certificates], next_cursor=page.next_cursor
    )


@router.get("/{certificate_id}", responses={**REFUSALS, **NOT_FOUND})
async def show(key: AdminKey, deps: Deps, certificate_id: UUID) -> CertificateDetail:
    """The certificate with its code, activity log and the order a redemption paid for."""
    return await _detail(deps, key.workspace_id, certificate_id)


@router.post("/{certificate_id}/void", responses={**REFUSALS, **NOT_FOUND, **CONFLICT, **KEYED})
async def void(
    key: AdminKey, deps: Deps, certificate_id: UUID, body: DecisionBody, idempotency_key: KeyHeader = None
) -> CertificateDetail:
    """Voids an active certificate, as a `void` message would (and publishes certificate-voided)."""
    command = VoidCertificate(**_decision(key, certificate_id, body, idempotency_key))
    await decide_operator_command(command, deps.new_uow, deps.clock)
    return await _detail(deps, key.workspace_id, certificate_id)


@router.post("/{certificate_id}/reactivate", responses={**REFUSALS, **NOT_FOUND, **CONFLICT, **KEYED})
async def reactivate(
    key: AdminKey, deps: Deps, certificate_id: UUID, body: DecisionBody, idempotency_key: KeyHeader = None
) -> CertificateDetail:
    """Restores a voided certificate before its expiry, as a `reactivate` message would."""
    command = ReactivateCertificate(**_decision(key, certificate_id, body, idempotency_key))
    await decide_operator_command(command, deps.new_uow, deps.clock)
    return await _detail(deps, key.workspace_id, certificate_id)


def _decision(key: ApiKey, certificate_id: UUID, body: DecisionBody, idempotency_key: str | None) -> dict[str, Any]:
    request_id = one_key(idempotency_key, body.request_id, "request_id", UUID)
    return {
        "workspace_id": key.workspace_id, "request_id": request_id or uuid4(),
        "certificate_id": certificate_id, "reason": body.reason, "actor": actor_of(key),
    }


@router.get(
    "/{certificate_id}/pdf",
    response_class=Response,
    responses={**REFUSALS, **NOT_FOUND, **CONFLICT, 200: {"content": {"application/pdf": {}}}},
)
async def download_pdf(key: AdminKey, deps: Deps, certificate_id: UUID) -> Response:
    """The stored PDF; rendered anew (the same bytes) when the documents worker has not stored it yet."""
    content = await certificate_pdf(deps.new_uow, key.workspace_id, certificate_id)
    return Response(
        content, media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{certificate_id}.pdf"'},
    )


@router.post("/{certificate_id}/resend", response_model=Sent, responses={**REFUSALS, **NOT_FOUND, **CONFLICT, **KEYED})
async def resend(
    key: AdminKey, deps: Deps, send: Sender, certificate_id: UUID, idempotency_key: KeyHeader = None
) -> JSONResponse:
    """Emails the certificate to its recipient again; logged as `sent` and published as certificate-sent.
    With an Idempotency-Key, a repeat answers without sending again (unless the first was cut short)."""

    async def send_again() -> Sent:
        sent = await resend_certificate_email(
            key.workspace_id, certificate_id, deps.new_uow, deps.clock, send,
            mail_from=deps.settings.mail_from,
        )
        return Sent(certificate_id=certificate_id, to=sent.to)

    request = header_key(key.workspace_id, "resend", idempotency_key, certificate_id=certificate_id)
    return await answered_at_least_once(deps, request, 200, send_again)


async def _detail(deps: Deps, workspace_id: str, certificate_id: UUID) -> CertificateDetail:
    return CertificateDetail.of_details(await certificate_details(deps.new_uow(), workspace_id, certificate_id))
