"""A hold: value of one certificate reserved for one order until `expires_at` (contract v2).

live -> captured | released | expired, and nothing else. A hold is live only before its
`expires_at`, judged by the clock of whatever looks at it: one past that moment reserves nothing,
whether or not a tick has marked it `expired` yet (`is_live`)."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from giftcert.domain.money import Amount


class HoldState(StrEnum):
    LIVE = "live"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Hold:
    id: UUID
    """The request_id of the booking-hold-request that placed it."""
    workspace_id: str
    certificate_id: UUID
    order_id: str
    amount: Amount
    expires_at: datetime
    state: HoldState
    created_at: datetime
    ended_at: datetime | None = None
    captured_minor: int | None = None
    """What its capture applied (the rest was released)."""

    def is_live(self, now: datetime) -> bool:
        return self.state is HoldState.LIVE and now < self.expires_at

    def ended(self, state: HoldState, *, at: datetime, captured_minor: int | None = None) -> "Hold":
        if self.state is not HoldState.LIVE or state is HoldState.LIVE:
            raise ValueError(f"a {self.state} hold cannot become {state}")
        return replace(self, state=state, ended_at=at, captured_minor=captured_minor)
