"""The certificate and its state machine.

pending -> active (payment) -> redeemed | voided | expired ; voided -> active (before expires_at).
No other transition exists: every method here either moves along one of those edges or raises.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from giftcert.domain.money import Amount


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REDEEMED = "redeemed"
    VOIDED = "voided"
    EXPIRED = "expired"


ALLOWED_TRANSITIONS: frozenset[tuple[Status, Status]] = frozenset(
    {
        (Status.PENDING, Status.ACTIVE),
        (Status.ACTIVE, Status.REDEEMED),
        (Status.ACTIVE, Status.VOIDED),
        (Status.ACTIVE, Status.EXPIRED),
        (Status.VOIDED, Status.ACTIVE),
    }
)


class IllegalTransitionError(Exception):
    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(f"a certificate cannot go from {current} to {target}")


@dataclass(frozen=True, slots=True)
class Certificate:
    id: UUID
    workspace_id: str
    status: Status
    amount: Amount
    code: str = field(repr=False)  # a bearer secret: a logged or printed certificate shows no code
    channel: str
    segment: str | None
    purchaser_name: str
    purchaser_email: str
    recipient_name: str
    recipient_email: str
    message: str | None
    expiry_days: int
    created_at: datetime
    activated_at: datetime | None = None
    expires_at: datetime | None = None
    payment_id: str | None = None
    redeemed_at: datetime | None = None
    voided_at: datetime | None = None
    expired_at: datetime | None = None
    expiring_soon_notified_at: datetime | None = None
    product_id: UUID | None = None
    locale: str | None = None  # BCP 47, as the purchase named it; None: the workspace's

    @property
    def code_last4(self) -> str:
        return self.code[-4:]

    def has_expired_by(self, moment: datetime) -> bool:
        return self.expires_at is not None and moment >= self.expires_at

    def _moved_to(self, target: Status) -> None:
        if (self.status, target) not in ALLOWED_TRANSITIONS:
            raise IllegalTransitionError(self.status, target)

    def activated(self, *, at: datetime, payment_id: str) -> "Certificate":
        self._moved_to(Status.ACTIVE)
        return replace(
            self,
            status=Status.ACTIVE,
            activated_at=at,
            expires_at=at + timedelta(days=self.expiry_days),
            payment_id=payment_id,
        )

    def redeemed(self, *, at: datetime) -> "Certificate":
        self._moved_to(Status.REDEEMED)
        return replace(self, status=Status.REDEEMED, redeemed_at=at)

    def voided(self, *, at: datetime) -> "Certificate":
        self._moved_to(Status.VOIDED)
        return replace(self, status=Status.VOIDED, voided_at=at)

    def reactivated(self) -> "Certificate":
        self._moved_to(Status.ACTIVE)
        return replace(self, status=Status.ACTIVE, voided_at=None)

    def reminded_of_expiry(self, *, at: datetime) -> "Certificate":
        """Not a transition: marks that certificate-expiring-soon went out, so it goes out once."""
        return replace(self, expiring_soon_notified_at=at)

    def expired(self, *, at: datetime) -> "Certificate":
        self._moved_to(Status.EXPIRED)
        return replace(self, status=Status.EXPIRED, expired_at=at)
