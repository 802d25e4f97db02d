"""One certificate as an operator sees it: its fields, its activity log, the booking order its
latest redemption paid for and (v2) every order it paid for, first paid first."""

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
    orders: list[str]


async def certificate_details(uow: UnitOfWork, workspace_id: str, certificate_id: UUID) -> CertificateDetails:
    async with uow:
        certificate = await uow.certificates.get(workspace_id, certificate_id)
        if certificate is None:
            raise CertificateNotFoundError(workspace_id, certificate_id)
        activity = await uow.activity.of_certificate(certificate_id)
        order_id = await uow.ledger.order_of_redemption(certificate_id)
        orders = await uow.ledger.orders_paid_by(certificate_id)
    return CertificateDetails(certificate, activity, order_id, orders)
