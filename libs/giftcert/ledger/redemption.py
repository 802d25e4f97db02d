"""booking-redeem-request -> certificate-redeemed or redemption-rejected.

The certificate row is locked for the decision, so of any number of concurrent requests for one
code exactly one finds it active; the ledger's unique (certificate, request) is the backstop.
An order, or a workspace, that has tried too many unknown codes is refused before any certificate is
looked up (domain/guessing.py). Each first decision is counted by outcome once it is committed
(`giftcert_redemptions_total`); a repeated request only gets its stored decision again."""

import logging
from datetime import datetime

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.codes import normalize_code
from giftcert.domain.guessing import GuessingLimit, ThrottleScope
from giftcert.domain.money import Amount
from giftcert.domain.rules import Refusal, refuse_redemption
from giftcert.ledger.replies import decide_once, new_event_fields
from giftcert.messaging.inbox import InboxKey
from giftcert.metrics import REDEMPTIONS, REDEMPTIONS_THROTTLED
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind
from giftcert.store.unit_of_work import UnitOfWork
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.outbound import CertificateRedeemed, Event, RedemptionRejected

CONSUMER = "redeem"
_THROTTLED_DETAIL = {
    ThrottleScope.ORDER: "{limit.failures} unknown codes for this order within {limit.window}; try again later",
    ThrottleScope.WORKSPACE: "too many unknown codes in this workspace within {limit.window}; try again later",
}
log = logging.getLogger("giftcert.redemption")


async def redeem_certificate(
    command: RedeemCertificate, uow: UnitOfWork, clock: Clock, guessing: GuessingLimit | None = None
) -> Event:
    limit = guessing or GuessingLimit()

    async def decide(uow: UnitOfWork, now: datetime) -> Event:
        fields = new_event_fields(command.workspace_id, now)
        failures = uow.redemption_failures
        since = limit.window_start(now)
        scope = limit.throttled(
            await failures.count_since(command.workspace_id, command.order_id, since),
            await failures.count_in_workspace_since(command.workspace_id, since),
        )
        if scope is not None:
            REDEMPTIONS_THROTTLED.labels(scope=scope.value).inc()
            log.warning(
                "redemption refused: too many unknown codes for this %s (order %r, workspace %r)",
                scope.value, command.order_id, command.workspace_id,
            )
            return RedemptionRejected(
                **fields, request_id=command.request_id, order_id=command.order_id, reason="too_many_attempts",
                detail=_THROTTLED_DETAIL[scope].format(limit=limit),
            )
        code = normalize_code(command.code)
        certificate = (
            None
            if code is None
            else await uow.certificates.get_by_code(command.workspace_id, code, lock=True)
        )
        refusal = refuse_redemption(
            certificate,
            order_total=Amount.of(command.order_total),  # type: ignore[arg-type]
            segment=command.segment,
            requested_at=command.requested_at,
            now=now,
        )
        if refusal is not None or certificate is None:
            refusal = refusal or Refusal("not_found", "no certificate matches this code")
            if refusal.reason == "not_found":
                await failures.record(command.workspace_id, command.order_id, now, forget_before=since)
            return RedemptionRejected(
                **fields,
                request_id=command.request_id,
                order_id=command.order_id,
                reason=refusal.reason,
                detail=refusal.detail,
            )
        redeemed = certificate.redeemed(at=now)
        await uow.certificates.save(redeemed)
        await uow.ledger.record(
            certificate_id=redeemed.id,
            workspace_id=redeemed.workspace_id,
            kind=EntryKind.REDEEMED,
            amount=Amount(-redeemed.amount.minor, redeemed.amount.currency),
            request_id=str(command.request_id),
            order_id=command.order_id,
            occurred_at=now,
        )
        await uow.activity.add(
            ActivityEntry(redeemed.id, redeemed.workspace_id, ActivityKind.REDEEMED, now, reference=command.order_id)
        )
        return CertificateRedeemed(
            **fields,
            request_id=command.request_id,
            order_id=command.order_id,
            certificate_id=redeemed.id,
            code_last4=redeemed.code_last4,
            amount_applied=redeemed.amount.to_money(),
            redeemed_at=now,
        )

    key = InboxKey(CONSUMER, command.workspace_id, str(command.request_id))
    decided = await decide_once(uow, key, clock, decide)
    if decided.first:
        reply = decided.reply
        REDEMPTIONS.labels(outcome=reply.reason if isinstance(reply, RedemptionRejected) else "redeemed").inc()
    return decided.reply
