"""The public portal's routes (scope `portal`): the purchase form, starting a purchase, and a
certificate's public status."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from giftcert.domain.product import offered_products
from giftcert.operations.errors import CertificateNotFoundError
from giftcert.operations.issuing import issue_certificate
from giftcert_contracts.fields import Segment
from giftcert_services.api.access import Deps, PortalKey
from giftcert_services.api.certificates import purchase_command
from giftcert_services.api.idempotency import KeyHeader
from giftcert_services.api.models import ProductOffer, PublicCertificate, PurchaseBody, PurchaseForm
from giftcert_services.api.responses import NOT_FOUND, REFUSALS

router = APIRouter(prefix="/v1/workspaces/{workspace}/portal", tags=["portal"])

@router.get("/form", responses=REFUSALS)
async def read_purchase_form(
    key: PortalKey, deps: Deps, segment: Annotated[Segment | None, Query()] = None
) -> PurchaseForm:
    """What the purchase form offers a customer of this segment."""
    async with deps.new_uow() as uow:
        settings = await uow.workspaces.get_or_default(key.workspace_id)
        products = offered_products(await uow.products.of_workspace(key.workspace_id), segment)
    return PurchaseForm(
        enabled=settings.portal_enabled, currency=settings.currency, min_minor=settings.min_minor,
        max_minor=settings.max_minor,
        products=[
            ProductOffer(product_id=p.id, name=p.name, fixed_amounts=list(p.fixed_amounts),
                         min_minor=p.min_minor, max_minor=p.max_minor)
            for p in products
        ],
    )


@router.post(
    "/purchases",
    status_code=201,
    responses={
        **REFUSALS,
        200: {"model": PublicCertificate, "description": "A repeat of a purchase already started."},
        409: {"description": "Refused: portal_disabled, amount_out_of_range, currency_not_supported, "
              "segment_not_allowed, invalid (the certificate id is taken), or idempotency_key_reused (the "
              "certificate id came before with another body)."},
        422: {"description": "An invalid body; `idempotency_key_mismatch`: the Idempotency-Key header and "
              "`certificate_id` differ."},
    },
)
async def start_purchase(
    key: PortalKey, deps: Deps, body: PurchaseBody, response: Response, idempotency_key: KeyHeader = None
) -> PublicCertificate:
    """Creates the pending certificate exactly as a `purchase-requested` message would; the payment
    system's `payment-completed` activates it. The certificate id is the idempotency key (in the body,
    or as the Idempotency-Key header)."""
    command = purchase_command(key, body, idempotency_key, channel="portal", now=deps.clock.now())
    issued = await issue_certificate(command, deps.new_uow, deps.clock)
    if not issued.created_now:
        response.status_code = 200
    return PublicCertificate.of(issued.certificate)


@router.get("/certificates/{certificate_id}", responses=REFUSALS | NOT_FOUND)
async def read_public_status(key: PortalKey, deps: Deps, certificate_id: UUID) -> PublicCertificate:
    async with deps.new_uow() as uow:
        certificate = await uow.certificates.get(key.workspace_id, certificate_id)
    if certificate is None:
        raise CertificateNotFoundError(key.workspace_id, certificate_id)
    return PublicCertificate.of(certificate)


