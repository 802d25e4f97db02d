"""The certificate and its state machine.

pending -> active (payment) -> redeemed | voided | expired ; voided -> active (before expires_at).
Contract v2 adds: pending -> voided (unpaid for the workspace's pending_days; never reactivated);
redeemed | expired -> active (a refund brings value back; one past its expiry lasts the workspace's
refund_validity_days from the refund).
No other transition exists: every method here either moves along one of those edges or raises.

The balance is the value still on the certificate: its amount once paid, less what redemptions
applied. It is kept here (a column) and is always the sum of the certificate's ledger entries that
move value (`giftcert ledger verify` checks it). A certificate stays active while its balance is
above zero and is redeemed when it reaches zero.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
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
        (Status.REDEEMED, Status.ACTIVE),  # v2: a refund
        (Status.EXPIRED, Status.ACTIVE),  # v2: a refund, for refund_validity_days
        (Status.PENDING, Status.VOIDED),  # v2: unpaid for the workspace's pending_days
    }
)


Kind = Literal["purchased", "promotional", "credit"]
"""`purchased` (paid; the only one that counts as revenue), `promotional` (issued free by an
operator), `credit` (issued instead of a cash refund, naming the order it replaces)."""
KINDS: tuple[Kind, ...] = ("purchased", "promotional", "credit")


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
    balance_minor: int = 0
    """What is left to apply, in the amount's currency (0 until paid)."""
    kind: Kind = "purchased"
    replaces_order_id: str | None = None
    """A `credit`'s: the order it was issued for instead of a cash refund."""

    @property
    def balance(self) -> Amount:
        return Amount(self.balance_minor, self.amount.currency)

    @property
    def code_last4(self) -> str:
        return self.code[-4:]

    def has_expired_by(self, moment: datetime) -> bool:
        return self.expires_at is not None and moment >= self.expires_at

    def _moved_to(self, target: Status, *, only_from: Status | None = None) -> None:
        """`only_from`: the one status this move starts from (several lead to active: a payment
        from pending, a reactivation from voided, a refund from redeemed or expired)."""
        if (self.status, target) not in ALLOWED_TRANSITIONS or only_from not in (None, self.status):
            raise IllegalTransitionError(self.status, target)

    def activated(self, *, at: datetime, payment_id: str) -> "Certificate":
        self._moved_to(Status.ACTIVE, only_from=Status.PENDING)
        return replace(
            self,
            status=Status.ACTIVE,
            activated_at=at,
            expires_at=at + timedelta(days=self.expiry_days),
            payment_id=payment_id,
            balance_minor=self.amount.minor,
        )

    def redeemed(self, *, at: datetime) -> "Certificate":
        """The whole balance applied."""
        return self.applied(self.balance_minor, at=at)

    def applied(self, minor: int, *, at: datetime) -> "Certificate":
        """`minor` of the balance applied to an order: still active while some is left, redeemed
        (at `at`) when none is."""
        if self.status is not Status.ACTIVE or not 0 < minor <= self.balance_minor:
            raise ValueError(f"cannot apply {minor} of a {self.status} certificate's balance of {self.balance_minor}")
        left = self.balance_minor - minor
        if left:
            return replace(self, balance_minor=left)
        self._moved_to(Status.REDEEMED)
        return replace(self, status=Status.REDEEMED, redeemed_at=at, balance_minor=0)

    def refunded(self, minor: int, *, at: datetime, validity: timedelta) -> "Certificate":
        """`minor` credited back by a refund: active with the balance above zero, whether it was
        active, redeemed or expired; one past its expiry at `at` is usable for `validity` from then
        (and may be reminded of its new expiry)."""
        if minor <= 0 or self.status not in (Status.ACTIVE, Status.REDEEMED, Status.EXPIRED):
            raise ValueError(f"cannot credit {minor} to a {self.status} certificate")
        if self.status is not Status.ACTIVE:
            self._moved_to(Status.ACTIVE)
        refunded = replace(
            self, status=Status.ACTIVE, balance_minor=self.balance_minor + minor, redeemed_at=None, expired_at=None
        )
        if self.has_expired_by(at):
            return replace(refunded, expires_at=at + validity, expiring_soon_notified_at=None)
        return refunded

    def voided(self, *, at: datetime) -> "Certificate":
        self._moved_to(Status.VOIDED, only_from=Status.ACTIVE)
        return replace(self, status=Status.VOIDED, voided_at=at)

    def voided_unpaid(self, *, at: datetime) -> "Certificate":
        """Never paid: voided for good (it was never active, so it cannot be reactivated)."""
        self._moved_to(Status.VOIDED, only_from=Status.PENDING)
        return replace(self, status=Status.VOIDED, voided_at=at)

    @property
    def was_paid(self) -> bool:
        return self.activated_at is not None

    def reactivated(self) -> "Certificate":
        if not self.was_paid:
            raise IllegalTransitionError(self.status, Status.ACTIVE)
        self._moved_to(Status.ACTIVE, only_from=Status.VOIDED)
        return replace(self, status=Status.ACTIVE, voided_at=None)

    def reminded_of_expiry(self, *, at: datetime) -> "Certificate":
        """Not a transition: marks that certificate-expiring-soon went out, so it goes out once."""
        return replace(self, expiring_soon_notified_at=at)

    def expired(self, *, at: datetime) -> "Certificate":
        self._moved_to(Status.EXPIRED)
        return replace(self, status=Status.EXPIRED, expired_at=at)
