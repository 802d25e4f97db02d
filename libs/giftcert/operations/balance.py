"""The balance inquiry (contract v2): what a code is worth now, under the code-guessing limit.

An unknown code is a failed attempt exactly like a redemption's: it is recorded in the same table
(store/redemption_failures.py) and counts toward the workspace's limit, which redemptions and
inquiries share; so guessing by inquiry throttles redemptions too, and the other way round. A booking
platform's or an operator's inquiry is limited by the workspace's count only (they ask for all their
customers); the public portal's (its page, or the API with a portal key) also by the asking address,
as an order is (`asker`): its failures are kept under a pseudo order id `balance inquiry from
<address>`. A throttled inquiry is refused before its
code is looked up, and is not counted. The code itself is never logged or kept."""

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from giftcert.clock import Clock
from giftcert.domain.certificate import Certificate
from giftcert.domain.codes import normalize_code
from giftcert.domain.guessing import GuessingLimit, ThrottleScope
from giftcert.domain.money import Amount
from giftcert.ports import UnitOfWork

log = logging.getLogger("giftcert.balance")
API_ASKERS = "balance inquiry"
"""The pseudo order the failures of API inquiries are kept under (only the workspace's count limits them)."""


@dataclass(frozen=True, slots=True)
class BalanceInquiry:
    workspace_id: str
    code: str
    asker: str | None = None
    """Whom to limit on their own as well (the portal visitor's address); None: the workspace only."""

    def __repr__(self) -> str:  # a code is a bearer secret
        return f"BalanceInquiry(workspace_id={self.workspace_id!r}, asker={self.asker!r})"

    @property
    def failures_kept_under(self) -> tuple[str, str]:
        order = API_ASKERS if self.asker is None else f"{API_ASKERS} from {self.asker}"
        return self.workspace_id, order[:128]


@dataclass(frozen=True, slots=True)
class CertificateBalance:
    code_last4: str
    status: str
    balance: Amount
    available: Amount
    expires_at: datetime | None


async def _held(uow: UnitOfWork, certificate_id: UUID, now: datetime) -> int:
    """What the certificate's live holds reserve at `now` (an expired hold reserves nothing)."""
    held = await uow.holds.live_on([certificate_id], now)
    return held.get(certificate_id, 0)


async def available_of(uow: UnitOfWork, certificate: Certificate, now: datetime) -> Amount:
    """What a redemption may apply now: the balance less what the certificate's live holds reserve
    (the balance inquiry's `available` and the console's)."""
    return Amount(certificate.balance_minor - await _held(uow, certificate.id, now), certificate.amount.currency)


class CodeNotFoundError(LookupError):
    def __init__(self) -> None:
        super().__init__("no certificate matches this code")


class TooManyAttemptsError(Exception):
    def __init__(self, scope: ThrottleScope, retry_after_seconds: int) -> None:
        who = "from this address" if scope is ThrottleScope.ORDER else "in this workspace"
        super().__init__(f"too many unknown codes {who}; try again in {retry_after_seconds} seconds")
        self.scope = scope
        self.retry_after_seconds = retry_after_seconds


async def inquire_balance(
    inquiry: BalanceInquiry, uow: UnitOfWork, clock: Clock, limit: GuessingLimit
) -> CertificateBalance:
    """The certificate's balance; CodeNotFoundError (counted) or TooManyAttemptsError (not counted)."""
    pair = inquiry.failures_kept_under
    async with uow:
        now = clock.now()
        since = limit.window_start(now)
        counts = await uow.redemption_failures.lock_and_count({pair}, since)
        own = counts.by_order.get(pair, 0) if inquiry.asker is not None else 0
        scope = limit.throttled(own, counts.by_workspace.get(inquiry.workspace_id, 0))
        if scope is not None:
            log.warning("balance inquiry refused: too many unknown codes (%s, workspace %r)",
                        scope.value, inquiry.workspace_id)
            raise TooManyAttemptsError(scope, max(1, round(limit.window.total_seconds())))
        code = normalize_code(inquiry.code)
        certificate = None if code is None else await uow.certificates.get_by_code(inquiry.workspace_id, code)
        if certificate is None:
            await uow.redemption_failures.record_many([pair], now, forget_before=since)
            await uow.commit()
            raise CodeNotFoundError
        available = await available_of(uow, certificate, now)
    return CertificateBalance(
        code_last4=certificate.code_last4, status=certificate.status.value, balance=certificate.balance,
        available=available, expires_at=certificate.expires_at,
    )
