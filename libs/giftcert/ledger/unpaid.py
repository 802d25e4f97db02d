"""A tick voids the certificates left unpaid: pending longer than the workspace's `pending_days`
(0: never). Each gets certificate-voided with reason `unpaid` and actor `system`, and `voided` in
its activity log, in the batch's transaction; its request_id is derived from the certificate, so a
tick redelivered halfway names the same voiding. A payment that comes later is refused
`not_pending` (the payment system refunds it), and the certificate is never reactivated
(domain/rules.py refuse_reactivation: `unpaid`). One batch of `expiry.py`'s kind: locked rows,
skipped or waited for as `_in_batches` says; a payment deciding about a certificate holds its lock,
so the tick finds it active once it gets the row."""

from datetime import timedelta
from uuid import UUID, uuid5

from giftcert.domain.activity import ActivityKind
from giftcert.ledger.events import new_event_fields
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert_contracts.inbound import CheckExpiries
from giftcert_contracts.outbound import CertificateVoided

UNPAID_REASON = "unpaid"
SYSTEM_ACTOR = "system"
_UNPAID_NAMESPACE = UUID("0b7e5a52-7c1d-5d4e-9f3a-6a1b2c3d4e5f")
"""Fixed forever: the request_id of a certificate's unpaid voiding is uuid5 of it and its id."""


def unpaid_voiding_id(certificate_id: UUID) -> UUID:
    return uuid5(_UNPAID_NAMESPACE, str(certificate_id))


async def void_unpaid_batch(uow: UnitOfWork, command: CheckExpiries, limit: int, *, skip_locked: bool) -> int:
    async with uow:
        workspace = await uow.workspaces.get_or_default(command.workspace_id)
        if workspace.pending_days == 0:
            return 0
        created_before = command.now - timedelta(days=workspace.pending_days)
        batch = await uow.certificates.lock_unpaid(command.workspace_id, created_before, limit, skip_locked=skip_locked)
        await uow.certificates.save(*(c.voided_unpaid(at=command.now) for c in batch))
        await uow.activity.add(
            *(
                ActivityEntry(
                    c.id, c.workspace_id, ActivityKind.VOIDED, command.now, actor=SYSTEM_ACTOR, reason=UNPAID_REASON,
                    reference=str(unpaid_voiding_id(c.id)),
                )
                for c in batch
            )
        )
        await uow.outbox.add(
            *(
                CertificateVoided(
                    **new_event_fields(c.workspace_id, command.now),
                    request_id=unpaid_voiding_id(c.id),
                    certificate_id=c.id,
                    reason=UNPAID_REASON,
                    actor=SYSTEM_ACTOR,
                )
                for c in batch
            )
        )
        await uow.commit()
    return len(batch)
