"""expiry-tick -> hold-expired for every live hold past its `hold_expires_at` (v2), then
certificate-expired for every active certificate past its expiry that holds nothing at the tick's
`now` (a held one expires at the first tick after its holds end), and one certificate-expiring-soon
per certificate entering the workspace's reminder window.

Work goes in bounded batches, one transaction each, so a tick never holds many locks for long and
redemptions go on meanwhile. The batches skip the rows another transaction holds (a redemption, the
PDF being stored) until one comes back short; then what was skipped is taken one certificate per
transaction, waiting for its holder, so a tick leaves behind no certificate that was due at its
`now` and never holds one row while it waits for another. The batches may keep to a pace
(`GIFTCERT_EXPIRY_RATE_PER_SECOND`, off by default; giftcert.pacing, decision 15), to leave
redemptions more of the machine; a redemption past `expires_at` is refused whether or not the tick
got to it. Each batch is
idempotent by state, so a tick interrupted halfway simply continues when redelivered; the inbox row
is written last, and a repeated tick_id after that publishes nothing."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.hold import HoldState
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.hold_locks import hold_end_request
from giftcert.messaging.inbox import InboxKey
from giftcert.pacing import Pacing
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry
from giftcert_contracts.inbound import CheckExpiries
from giftcert_contracts.money import Balance
from giftcert_contracts.outbound import CertificateExpired, CertificateExpiringSoon, Event, HoldExpired

CONSUMER = "expiry"


async def _already_handled(uow: UnitOfWork, key: InboxKey, now: datetime) -> bool:
    async with uow:
        return not await uow.inbox.claim(key, now)
        # never committed: the claim that counts is the last transaction's


class Batch(Protocol):
    """One transaction's worth of a tick's work; returns how many certificates it took."""

    def __call__(self, uow: UnitOfWork, command: CheckExpiries, limit: int, *, skip_locked: bool) -> Awaitable[int]: ...


async def _in_batches(
    batch: Batch, new_uow: Callable[[], UnitOfWork], command: CheckExpiries, size: int, pacing: Pacing
) -> int:
    """`batch` of `size` skipping held rows, at `pacing`'s pace, until one comes back short; then of
    one row, waiting for it, until none is left."""
    done = 0
    pacer = pacing.start()
    while (count := await batch(new_uow(), command, size, skip_locked=True)) > 0:
        done += count
        if count < size:
            break
        await pacer.took(count)
    while await batch(new_uow(), command, 1, skip_locked=False) > 0:
        done += 1
    return done


async def _expire_holds_batch(uow: UnitOfWork, command: CheckExpiries, limit: int, *, skip_locked: bool) -> int:
    """The live holds past their expiry on up to `limit` certificates, each certificate locked first
    (as a capture or a release locks it: one of them ends a hold, never two). Returns how many
    certificates it locked."""
    now = command.now
    async with uow:
        locked = await uow.holds.lock_certificates_of_due_holds(
            command.workspace_id, now, limit, skip_locked=skip_locked
        )
        due = await uow.holds.due_on(locked, now)
        certificates = await uow.certificates.get_many(locked)
        held = await uow.holds.live_on(locked, now)
        await uow.holds.save(*(h.ended(HoldState.EXPIRED, at=now) for h in due))
        await uow.ledger.record(
            *(LedgerEntry(h.certificate_id, h.workspace_id, EntryKind.HOLD_EXPIRED, h.amount, hold_end_request(h.id),
                          now, order_id=h.order_id) for h in due)
        )
        await uow.activity.add(
            *(ActivityEntry(h.certificate_id, h.workspace_id, ActivityKind.HOLD_EXPIRED, now, reference=h.order_id)
              for h in due)
        )
        events: list[Event] = [
            HoldExpired(
                **new_event_fields(h.workspace_id, now), hold_id=h.id, order_id=h.order_id,
                certificate_id=h.certificate_id, amount_released=h.amount.to_money(),
                available_after=Balance(
                    minor=max(certificates[h.certificate_id].balance_minor - held.get(h.certificate_id, 0), 0),
                    currency=h.amount.currency,
                ),
            )
            for h in due
        ]
        await uow.outbox.add(*events)
        await uow.commit()
    return len(locked)


async def _expire_batch(uow: UnitOfWork, command: CheckExpiries, limit: int, *, skip_locked: bool) -> int:
    async with uow:
        locked = await uow.certificates.lock_expired(
            command.workspace_id, command.now, limit, skip_locked=skip_locked
        )
        # a hold placed while this statement waited for the row is seen now (a fresh read under the lock)
        held = await uow.holds.live_on([c.id for c in locked], command.now)
        batch = [c for c in locked if c.id not in held]
        await uow.certificates.save(*(c.expired(at=command.now) for c in batch))
        await uow.activity.add(
            *(ActivityEntry(c.id, c.workspace_id, ActivityKind.EXPIRED, command.now) for c in batch)
        )
        await uow.outbox.add(
            *(
                CertificateExpired(
                    **new_event_fields(c.workspace_id, command.now),
                    certificate_id=c.id,
                    code_last4=c.code_last4,
                    expired_at=command.now,
                )
                for c in batch
            )
        )
        await uow.commit()
    return len(locked)


async def _remind_batch(uow: UnitOfWork, command: CheckExpiries, limit: int, *, skip_locked: bool) -> int:
    async with uow:
        workspace = await uow.workspaces.get_or_default(command.workspace_id)
        horizon = command.now + timedelta(days=workspace.reminder_days)
        batch: list[Certificate] = list(
            await uow.certificates.lock_expiring_soon(
                command.workspace_id, command.now, horizon, limit, skip_locked=skip_locked
            )
        )
        await uow.certificates.save(*(c.reminded_of_expiry(at=command.now) for c in batch))
        await uow.outbox.add(
            *(
                CertificateExpiringSoon(
                    **new_event_fields(c.workspace_id, command.now),
                    certificate_id=c.id,
                    expires_at=c.expires_at,
                    recipient_email=c.recipient_email,
                )
                for c in batch
            )
        )
        await uow.commit()
    return len(batch)


async def check_expiries(
    command: CheckExpiries, new_uow: Callable[[], UnitOfWork], *, batch_size: int, pacing: Pacing | None = None
) -> int:
    """Returns how many certificates expired (0 for a repeated tick). `pacing`: as fast as the store
    allows when not given."""
    pacing = pacing or Pacing()
    key = InboxKey(CONSUMER, command.workspace_id, str(command.tick_id))
    if await _already_handled(new_uow(), key, command.now):
        return 0
    await _in_batches(_expire_holds_batch, new_uow, command, batch_size, pacing)
    expired = await _in_batches(_expire_batch, new_uow, command, batch_size, pacing)
    await _in_batches(_remind_batch, new_uow, command, batch_size, pacing)
    async with new_uow() as uow:
        await uow.inbox.claim(key, command.now)
        await uow.commit()
    return expired
