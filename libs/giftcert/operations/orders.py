"""One booking order as an operator sees it (contract v2, "Orders"): what each certificate
contributed to it: its holds (live, captured, released or expired, judged live by `now`), and the
value its certificates applied, by direct redemptions and captures, and gave back (refunds). The
order's received value is what was applied net of refunds; what is held is its live holds."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from giftcert.domain.hold import Hold
from giftcert.ports import UnitOfWork
from giftcert.store.ledger import LedgerEntry


class OrderNotFoundError(LookupError):
    def __init__(self, workspace_id: str, order_id: str) -> None:
        super().__init__(f"no certificate contributed to order {order_id!r} in workspace {workspace_id}")


@dataclass(frozen=True, slots=True)
class CertificateContribution:
    certificate_id: UUID
    code_last4: str
    currency: str
    applied_minor: int
    """Redeemed and captured, net of refunds."""
    held_minor: int
    """Live holds at the moment of the look-up."""
    entries: list[LedgerEntry]
    holds: list[Hold]


@dataclass(frozen=True, slots=True)
class OrderDetails:
    workspace_id: str
    order_id: str
    received_minor: int
    held_minor: int
    certificates: list[CertificateContribution]


async def order_details(uow: UnitOfWork, workspace_id: str, order_id: str, now: datetime) -> OrderDetails:
    async with uow:
        entries = await uow.ledger.applied_entries_of_order(workspace_id, order_id)
        holds = list(await uow.holds.of_order(workspace_id, order_id))
        ids = list(dict.fromkeys([*(h.certificate_id for h in holds), *(e.certificate_id for e in entries)]))
        certificates = await uow.certificates.get_many(ids)
    if not ids:
        raise OrderNotFoundError(workspace_id, order_id)
    contributions = []
    for certificate_id in sorted(ids, key=lambda i: _first_seen(i, holds, entries)):
        certificate = certificates[certificate_id]
        mine = [e for e in entries if e.certificate_id == certificate_id]
        held = [h for h in holds if h.certificate_id == certificate_id]
        contributions.append(CertificateContribution(
            certificate_id, certificate.code_last4, certificate.amount.currency,
            applied_minor=-sum(e.amount.minor for e in mine),
            held_minor=sum(h.amount.minor for h in held if h.is_live(now)),
            entries=mine, holds=held,
        ))
    return OrderDetails(
        workspace_id, order_id, received_minor=sum(c.applied_minor for c in contributions),
        held_minor=sum(c.held_minor for c in contributions), certificates=contributions,
    )


def _first_seen(certificate_id: UUID, holds: list[Hold], entries: list[LedgerEntry]) -> datetime:
    return min(
        [h.created_at for h in holds if h.certificate_id == certificate_id]
        + [e.occurred_at for e in entries if e.certificate_id == certificate_id]
    )
