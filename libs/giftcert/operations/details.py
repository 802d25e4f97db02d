"""One certificate as an operator sees it: its fields, its activity log and, once redeemed, the
booking order it paid for."""

from dataclasses import dataclass
from uuid import UUID

from giftcert.domain.certificate import Certificate
from giftcert.operations.errors import CertificateNotFoundError
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry


@dataclass(frozen=True, slots=True)
class CertificateDetails:
    certificate: Certificate
    activity: list[ActivityEntry]
    order_id: str | None


async def certificate_details(uow: UnitOfWork, workspace_id: str, certificate_id: UUID) -> CertificateDetails:
    async with uow:
        certificate = await uow.certificates.get(workspace_id, certificate_id)
        if certificate is None:
            raise CertificateNotFoundError(workspace_id, certificate_id)
        activity = await uow.activity.of_certificate(certificate_id)
        order_id = await uow.ledger.order_of_redemption(certificate_id)
    return CertificateDetails(certificate, activity, order_id)
