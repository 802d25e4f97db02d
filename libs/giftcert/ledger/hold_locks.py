"""What a capture, a release and a tick do before deciding about holds: find each hold's
certificate, lock the certificates (primary-key order, so two batches never wait for each other in
a cycle) and read the holds again under those locks. A hold's state changes only under its
certificate's lock, so what is read then stays true until the commit."""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from giftcert.domain.certificate import Certificate
from giftcert.domain.hold import Hold
from giftcert.ports import UnitOfWork
from giftcert_contracts.money import Balance


async def lock_holds(
    uow: UnitOfWork, workspace_hold_ids: Collection[tuple[str, UUID]]
) -> tuple[dict[UUID, Hold], dict[UUID, Certificate]]:
    """The holds that exist (by id) as their locked certificates let them be, and those certificates."""
    found = [h for w, i in workspace_hold_ids if (h := await uow.holds.get(w, i)) is not None]
    certificates = await uow.certificates.get_many({h.certificate_id for h in found}, lock=True)
    holds = {h.id: h for w, i in workspace_hold_ids if (h := await uow.holds.get(w, i)) is not None}
    return holds, certificates


def hold_end_request(hold_id: UUID) -> str:
    """The ledger request of a hold's end (`released` or `hold_expired`): one per hold, so the ledger's
    unique (certificate, request) is a backstop against a hold ending twice."""
    return f"{hold_id}:end"


async def available(uow: UnitOfWork, certificate: Certificate, now: datetime) -> Balance:
    """The certificate's balance less what its live holds reserve at `now` (as written so far)."""
    held = (await uow.holds.live_on([certificate.id], now)).get(certificate.id, 0)
    return Balance(minor=max(certificate.balance_minor - held, 0), currency=certificate.amount.currency)
