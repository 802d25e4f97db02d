"""booking-capture-request -> certificate-redeemed (then hold-released for what is not captured)
or capture-rejected (contract v2).

A capture applies what a live hold reserved, all of it by default, at most that; in `full` mode all
of it (a certificate pays one booking with its whole value). It is decided under the certificate's
lock (ledger/hold_locks.py), so of a capture, a release and a tick racing for one hold exactly one
ends it. A hold still live by this request's clock is captured even if the certificate's
`expires_at` has passed since it was placed; one past its own expiry is `hold_expired`, whether or
not a tick has marked it yet. The ledger gets `released` (+ what was held) and `captured` (- what
is applied, named by this request: a refund names it), and the certificate's balance goes down."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.hold import Hold, HoldState
from giftcert.domain.money import Amount
from giftcert.domain.rules import Refusal, refuse_ended_hold
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.hold_locks import available, hold_end_request, lock_holds
from giftcert.ledger.idempotency import answer, bind_requests, claim_first
from giftcert.messaging.inbox import InboxKey
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry
from giftcert_contracts.inbound import CaptureHold
from giftcert_contracts.money import Balance
from giftcert_contracts.outbound import CaptureRejected, CertificateRedeemed, Event, HoldReleased
from giftcert_contracts.topics import Topic

CONSUMER = "capture"


def refuse_capture(
    hold: Hold | None, requested: tuple[int, str] | None, *, full: bool, now: datetime
) -> Refusal | int:
    """What the capture applies (minor units), or why not."""
    if (ended := refuse_ended_hold(hold, now=now)) is not None:
        return ended
    assert hold is not None  # noqa: S101 - refuse_ended_hold refuses a missing hold
    if requested is None:
        return hold.amount.minor
    minor, currency = requested
    if minor <= 0 or currency != hold.amount.currency:
        return Refusal("invalid_amount", f"the amount must be positive and in {hold.amount.currency}")
    if minor > hold.amount.minor:
        return Refusal("amount_exceeds_hold", f"the hold is of {hold.amount.minor}")
    if full and minor != hold.amount.minor:
        return Refusal("invalid_amount", f"this workspace redeems certificates in full: capture {hold.amount.minor}")
    return minor


async def _capture(
    command: CaptureHold, uow: UnitOfWork, now: datetime, holds: dict[UUID, Hold], certificates: dict[UUID, Certificate]
) -> tuple[Event, list[Event]]:
    """The reply, and what follows it (hold-released for the rest of a partial capture)."""
    fields = new_event_fields(command.workspace_id, now)
    hold = holds.get(command.hold_id)
    requested = None if command.amount is None else (command.amount.minor, command.amount.currency)
    full = hold is not None and (await uow.workspaces.get_or_default(hold.workspace_id)).redemption_mode == "full"
    capturing = refuse_capture(hold, requested, full=full, now=now)
    if isinstance(capturing, Refusal) or hold is None:
        assert isinstance(capturing, Refusal)  # noqa: S101 - refuse_capture refuses a missing hold
        return CaptureRejected(
            **fields, request_id=command.request_id, hold_id=command.hold_id, reason=capturing.reason,
            detail=capturing.detail, certificate_id=None if hold is None else hold.certificate_id,
        ), []
    certificate = certificates[hold.certificate_id]
    redeemed = certificate.applied(capturing, at=now)
    certificates[redeemed.id] = redeemed
    holds[hold.id] = ended = hold.ended(HoldState.CAPTURED, at=now, captured_minor=capturing)
    currency = hold.amount.currency
    await uow.certificates.save(redeemed)
    await uow.holds.save(ended)
    await uow.ledger.record(
        LedgerEntry(redeemed.id, redeemed.workspace_id, EntryKind.RELEASED, hold.amount, hold_end_request(hold.id), now,
                    order_id=hold.order_id),
        LedgerEntry(redeemed.id, redeemed.workspace_id, EntryKind.CAPTURED, Amount(-capturing, currency),
                    str(command.request_id), now, order_id=hold.order_id),
    )
    await uow.activity.add(
        ActivityEntry(redeemed.id, redeemed.workspace_id, ActivityKind.REDEEMED, now, reference=hold.order_id)
    )
    reply = CertificateRedeemed(
        **fields, request_id=command.request_id, order_id=hold.order_id, certificate_id=redeemed.id,
        code_last4=redeemed.code_last4, amount_applied=Amount(capturing, currency).to_money(), redeemed_at=now,
        hold_id=hold.id, balance_after=Balance(minor=redeemed.balance_minor, currency=currency),
        status_after="active" if redeemed.balance_minor else "redeemed",
    )
    rest = hold.amount.minor - capturing
    if not rest:
        return reply, []
    released = HoldReleased(
        **new_event_fields(command.workspace_id, now), request_id=command.request_id, hold_id=hold.id,
        certificate_id=redeemed.id, amount_released=Amount(rest, currency).to_money(),
        available_after=await available(uow, redeemed, now),
    )
    return reply, [released]


async def capture_holds(
    commands: Sequence[CaptureHold], uow: UnitOfWork, clock: Clock, traces: Sequence[Mapping[str, str]] | None = None
) -> list[Event]:
    """One reply per command, in order, from one transaction; a repeated request_id gets its first
    reply again (certificate-redeemed or capture-rejected; the hold-released that followed a partial
    capture is not repeated)."""
    keys = [InboxKey(CONSUMER, c.workspace_id, str(c.request_id)) for c in commands]
    async with uow:
        now = clock.now()
        first = await claim_first(uow, keys, now)
        await bind_requests(uow, [commands[p] for p in first], Topic.BOOKING_CAPTURE_REQUEST, now)
        holds, certificates = await lock_holds(uow, {(commands[p].workspace_id, commands[p].hold_id) for p in first})
        decisions: dict[int, Event] = {}
        following: list[Event] = []
        for position in first:
            decisions[position], then = await _capture(commands[position], uow, now, holds, certificates)
            following.extend(then)
        replies = await answer(uow, keys, decisions, now, traces=traces)
        await uow.outbox.add(*following)
        await uow.commit()
    return replies
