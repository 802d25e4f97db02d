"""One certificate as an operator sees it: its fields, its activity log, the booking order its
latest redemption paid for and (v2) every order it paid for, first paid first, its value history
(the ledger's entries) and what is available now."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from giftcert.domain.certificate import Certificate
from giftcert.domain.money import Amount
from giftcert.operations.balance import available_of
from giftcert.operations.errors import CertificateNotFoundError
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import LedgerEntry


@dataclass(frozen=True, slots=True)
class CertificateDetails:
    certificate: Certificate
    activity: list[ActivityEntry]
    order_id: str | None
    orders: list[str]
    entries: tuple[LedgerEntry, ...] = ()
    """The ledger's entries, oldest first: issued, redeemed, ... with signed amounts and their orders."""
    available: Amount | None = None
    """The balance less its live holds at the `now` asked about; None when no `now` was given."""


async def certificate_details(
    uow: UnitOfWork, workspace_id: str, certificate_id: UUID, *, now: datetime | None = None
) -> CertificateDetails:
    """The certificate's details; with `now`, also what is available at that moment."""
    async with uow:
        certificate = await uow.certificates.get(workspace_id, certificate_id)
        if certificate is None:
            raise CertificateNotFoundError(workspace_id, certificate_id)
        activity = await uow.activity.of_certificate(certificate_id)
        order_id = await uow.ledger.order_of_redemption(certificate_id)
        orders = await uow.ledger.orders_paid_by(certificate_id)
        entries = tuple(await uow.ledger.of_certificate(certificate_id))
        available = None if now is None else await available_of(uow, certificate, now)
    return CertificateDetails(certificate, activity, order_id, orders, entries, available)
