"""Operators' certificate routes (scope `admin`): issue, record an offline payment, search, look
up, void, reactivate, download the PDF, resend the email."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Response

from giftcert.delivery.pdf import certificate_pdf
from giftcert.delivery.resend import resend_certificate_email
from giftcert.domain.api_key import ApiKey
from giftcert.operations.details import certificate_details
from giftcert.operations.issuing import issue_certificate, record_offline_payment
from giftcert.operations.search import CertificateSearch, search_certificates
from giftcert.operations.voiding import decide_operator_command
from giftcert_contracts.inbound import PurchaseRequested, ReactivateCertificate, VoidCertificate
from giftcert_services.api.access import AdminKey, Deps, Sender, actor_of
from giftcert_services.api.models import (
    CertificateDetail,
    CertificateSummary,
    DecisionBody,
    PaymentBody,
    PurchaseBody,
    SearchFilters,
    SearchResult,
    Sent,
)
from giftcert_services.api.responses import CONFLICT, NOT_FOUND, REFUSALS

router = APIRouter(prefix="/v1/workspaces/{workspace}/certificates", tags=["certificates"])


@router.post(
    "", status_code=201,
    responses={**REFUSALS, **CONFLICT, 200: {"model": CertificateDetail, "description": "A repeat."}},
)
async def issue(key: AdminKey, deps: Deps, body: PurchaseBody, response: Response) -> CertificateDetail:
    """A certificate made by an operator (channel `admin`, e.g. a phone sale); pending until paid."""
    command = PurchaseRequested(
        workspace_id=key.workspace_id, channel="admin", requested_at=deps.clock.now(), **body.model_dump()
    )
    issued = await issue_certificate(command, deps.new_uow, deps.clock)
    if not issued.created_now:
        response.status_code = 200
    return await _detail(deps, key.workspace_id, issued.certificate.id)


@router.post("/{certificate_id}/payments", responses={**REFUSALS, **NOT_FOUND, **CONFLICT})
async def record_payment(key: AdminKey, deps: Deps, certificate_id: UUID, body: PaymentBody) -> CertificateDetail:
    """An offline payment activates the pending certificate as `payment-completed` would."""
    await record_offline_payment(key.workspace_id, certificate_id, body.payment_reference, deps.new_uow, deps.clock)
    return await _detail(deps, key.workspace_id, certificate_id)


@router.get("", responses=REFUSALS | {422: {"description": "A bad filter or cursor."}})
async def search(key: AdminKey, deps: Deps, filters: Annotated[SearchFilters, Query()]) -> SearchResult:
    """Newest first (created_at, then id); `*_from` bounds include, `*_to` bounds exclude."""
    query = CertificateSearch(workspace_id=key.workspace_id, **filters.model_dump())
    async with deps.engine.connect() as connection:
        page = await search_certificates(connection, query)
    return SearchResult(
        certificates=[CertificateSummary.of(c) for c in page.certificates], next_cursor=page.next_cursor
    )


@router.get("/{certificate_id}", responses={**REFUSALS, **NOT_FOUND})
async def show(key: AdminKey, deps: Deps, certificate_id: UUID) -> CertificateDetail:
    """The certificate with its code, activity log and the order a redemption paid for."""
    return await _detail(deps, key.workspace_id, certificate_id)


@router.post("/{certificate_id}/void", responses={**REFUSALS, **NOT_FOUND, **CONFLICT})
async def void(key: AdminKey, deps: Deps, certificate_id: UUID, body: DecisionBody) -> CertificateDetail:
    """Voids an active certificate, as a `void` message would (and publishes certificate-voided)."""
    command = VoidCertificate(**_decision(key, certificate_id, body))
    await decide_operator_command(command, deps.new_uow, deps.clock)
    return await _detail(deps, key.workspace_id, certificate_id)


@router.post("/{certificate_id}/reactivate", responses={**REFUSALS, **NOT_FOUND, **CONFLICT})
async def reactivate(key: AdminKey, deps: Deps, certificate_id: UUID, body: DecisionBody) -> CertificateDetail:
    """Restores a voided certificate before its expiry, as a `reactivate` message would."""
    command = ReactivateCertificate(**_decision(key, certificate_id, body))
    await decide_operator_command(command, deps.new_uow, deps.clock)
    return await _detail(deps, key.workspace_id, certificate_id)


def _decision(key: ApiKey, certificate_id: UUID, body: DecisionBody) -> dict[str, Any]:
    return {
        "workspace_id": key.workspace_id, "request_id": body.request_id or uuid4(),
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


@router.post("/{certificate_id}/resend", responses={**REFUSALS, **NOT_FOUND, **CONFLICT})
async def resend(key: AdminKey, deps: Deps, send: Sender, certificate_id: UUID) -> Sent:
    """Emails the certificate to its recipient again; logged as `sent` and published as certificate-sent."""
    sent = await resend_certificate_email(
        key.workspace_id, certificate_id, deps.new_uow, deps.clock, send,
        mail_from=deps.settings.mail_from,
    )
    return Sent(certificate_id=certificate_id, to=sent.to)


async def _detail(deps: Deps, workspace_id: str, certificate_id: UUID) -> CertificateDetail:
    return CertificateDetail.of_details(await certificate_details(deps.new_uow(), workspace_id, certificate_id))
