"""booking-release-request -> hold-released or release-rejected (contract v2).

A release gives back what a live hold reserved: the hold ends `released` and the ledger gets
`released` (+ what was held), under the certificate's lock (ledger/hold_locks.py), so of a capture,
a release and a tick racing for one hold exactly one ends it. A hold past its expiry by this
request's clock is `hold_expired` (its value is available again anyway); a captured one
`already_captured`; one released before `hold_released` (the contract names no reason for it: the
capture's is reused, so a caller can tell it from the other two)."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.hold import Hold, HoldState
from giftcert.domain.rules import refuse_ended_hold
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.hold_locks import available, hold_end_request, lock_holds
from giftcert.ledger.idempotency import answer, bind_requests, claim_first
from giftcert.messaging.inbox import InboxKey
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry
from giftcert_contracts.inbound import ReleaseHold
from giftcert_contracts.outbound import Event, HoldReleased, ReleaseRejected
from giftcert_contracts.topics import Topic

CONSUMER = "release"


async def _release(
    command: ReleaseHold, uow: UnitOfWork, now: datetime, holds: dict[UUID, Hold], certificates: dict[UUID, Certificate]
) -> Event:
    fields = new_event_fields(command.workspace_id, now)
    hold = holds.get(command.hold_id)
    refusal = refuse_ended_hold(hold, now=now)
    if refusal is not None or hold is None:
        assert refusal is not None  # noqa: S101 - refuse_ended_hold refuses a missing hold
        return ReleaseRejected(
            **fields, request_id=command.request_id, hold_id=command.hold_id, reason=refusal.reason,
            detail=refusal.detail, certificate_id=None if hold is None else hold.certificate_id,
        )
    certificate = certificates[hold.certificate_id]
    holds[hold.id] = ended = hold.ended(HoldState.RELEASED, at=now)
    await uow.holds.save(ended)
    await uow.ledger.record(
        LedgerEntry(certificate.id, certificate.workspace_id, EntryKind.RELEASED, hold.amount,
                    hold_end_request(hold.id), now, order_id=hold.order_id),
    )
    await uow.activity.add(
        ActivityEntry(certificate.id, certificate.workspace_id, ActivityKind.HOLD_RELEASED, now,
                      reason=command.reason, reference=hold.order_id)
    )
    return HoldReleased(
        **fields, request_id=command.request_id, hold_id=hold.id, certificate_id=certificate.id,
        amount_released=hold.amount.to_money(), available_after=await available(uow, certificate, now),
    )


async def release_holds(
    commands: Sequence[ReleaseHold], uow: UnitOfWork, clock: Clock, traces: Sequence[Mapping[str, str]] | None = None
) -> list[Event]:
    """One reply per command, in order, from one transaction; a repeated request_id gets its first
    decision again."""
    keys = [InboxKey(CONSUMER, c.workspace_id, str(c.request_id)) for c in commands]
    async with uow:
        now = clock.now()
        first = await claim_first(uow, keys, now)
        await bind_requests(uow, [commands[p] for p in first], Topic.BOOKING_RELEASE_REQUEST, now)
        holds, certificates = await lock_holds(uow, {(commands[p].workspace_id, commands[p].hold_id) for p in first})
        decisions = {p: await _release(commands[p], uow, now, holds, certificates) for p in first}
        replies = await answer(uow, keys, decisions, now, traces=traces)
        await uow.commit()
    return replies
