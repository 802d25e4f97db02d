"""Events the service publishes. Each names its topic; `event_id` equals the CloudEvents `ce_id`.

A redemption code never appears here: events carry `code_last4` only.
"""

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from giftcert_contracts.fields import (
    Actor,
    CodeLast4,
    Detail,
    ExternalId,
    Reason,
    Timestamp,
    WorkspaceId,
)
from giftcert_contracts.inbound import Channel
from giftcert_contracts.money import Balance, Money
from giftcert_contracts.topics import Topic

PurchaseRejectionReason = Literal[
    "portal_disabled", "amount_out_of_range", "currency_not_supported", "segment_not_allowed",
    "invalid",
]
PaymentRejectionReason = Literal[
    "unknown_certificate", "amount_mismatch", "currency_mismatch", "not_pending",
]
RedemptionRejectionReason = Literal[
    "not_found", "not_active", "already_redeemed", "voided", "expired", "exceeds_order_total",
    "currency_mismatch", "segment_not_allowed", "too_many_attempts",
    "insufficient_balance", "exceeds_order_due", "invalid_amount",
]
HoldRejectionReason = Literal[RedemptionRejectionReason, "invalid_hold_seconds"]
CaptureRejectionReason = Literal[
    "unknown_hold", "hold_released", "hold_expired", "already_captured", "amount_exceeds_hold", "invalid_amount",
]
ReleaseRejectionReason = Literal["unknown_hold", "already_captured", "hold_expired", "hold_released"]
VoidRejectionReason = Literal["not_found", "not_active", "already_redeemed", "already_voided", "expired", "held"]
ReactivateRejectionReason = Literal["not_found", "not_voided", "expired"]


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[Topic]

    workspace_id: WorkspaceId
    event_id: UUID
    occurred_at: Timestamp
    sequence: int | None = None
    """Where the event names a certificate: the number of the certificate's own event counter it
    took (1 for `certificate-created`, then 2, 3... in commit order). Within a topic a certificate's
    events arrive in this order; across topics it tells the order. Optional to readers."""

    @property
    def subject(self) -> UUID | None:
        """The certificate the event is about (CloudEvents subject and Kafka key), if any."""
        return getattr(self, "certificate_id", None)


class CertificateCreated(Event):
    topic = Topic.CERTIFICATE_CREATED
    certificate_id: UUID
    amount: Money
    channel: Channel
    expires_in_days: int


class PurchaseRejected(Event):
    topic = Topic.PURCHASE_REJECTED
    certificate_id: UUID
    reason: PurchaseRejectionReason
    detail: Detail


class CertificateActivated(Event):
    topic = Topic.CERTIFICATE_ACTIVATED
    certificate_id: UUID
    code_last4: CodeLast4
    amount: Money
    activated_at: Timestamp
    expires_at: Timestamp
    channel: Channel
    payment_id: ExternalId


class PaymentRejected(Event):
    topic = Topic.PAYMENT_REJECTED
    payment_id: ExternalId
    certificate_id: UUID
    reason: PaymentRejectionReason
    detail: Detail


class PdfReady(Event):
    topic = Topic.PDF_READY
    certificate_id: UUID
    document_id: UUID
    sha256: str
    size_bytes: int


class CertificateSent(Event):
    topic = Topic.CERTIFICATE_SENT
    certificate_id: UUID
    to: EmailStr
    document_id: UUID


class CertificateRedeemed(Event):
    topic = Topic.CERTIFICATE_REDEEMED
    request_id: UUID
    order_id: ExternalId
    certificate_id: UUID
    code_last4: CodeLast4
    amount_applied: Money
    redeemed_at: Timestamp
    hold_id: UUID | None = Field(None, description="v2. The hold this redemption captured; null for a direct redeem.")
    balance_after: Balance | None = Field(None, description="v2. What is left on the certificate.")
    status_after: Literal["active", "redeemed"] | None = Field(
        None, description="v2. `active` while some balance is left, `redeemed` at zero."
    )


class RedemptionRejected(Event):
    topic = Topic.REDEMPTION_REJECTED
    request_id: UUID
    order_id: ExternalId
    reason: RedemptionRejectionReason
    detail: Detail


class CertificateVoided(Event):
    topic = Topic.CERTIFICATE_VOIDED
    request_id: UUID
    certificate_id: UUID
    reason: Reason
    actor: Actor


class VoidRejected(Event):
    topic = Topic.VOID_REJECTED
    request_id: UUID
    certificate_id: UUID
    reason: VoidRejectionReason
    detail: Detail


class CertificateReactivated(Event):
    topic = Topic.CERTIFICATE_REACTIVATED
    request_id: UUID
    certificate_id: UUID
    reason: Reason
    actor: Actor


class ReactivateRejected(Event):
    topic = Topic.REACTIVATE_REJECTED
    request_id: UUID
    certificate_id: UUID
    reason: ReactivateRejectionReason
    detail: Detail


class CertificateExpired(Event):
    topic = Topic.CERTIFICATE_EXPIRED
    certificate_id: UUID
    code_last4: CodeLast4
    expired_at: Timestamp


class CertificateExpiringSoon(Event):
    topic = Topic.CERTIFICATE_EXPIRING_SOON
    certificate_id: UUID
    expires_at: Timestamp
    recipient_email: EmailStr


class HoldPlaced(Event):
    """v2. Value of a certificate is reserved for an order until `hold_expires_at`."""

    topic = Topic.HOLD_PLACED
    request_id: UUID
    hold_id: UUID
    order_id: ExternalId
    certificate_id: UUID
    code_last4: CodeLast4
    amount_held: Money
    available_after: Balance
    hold_expires_at: Timestamp


class HoldRejected(Event):
    topic = Topic.HOLD_REJECTED
    request_id: UUID
    order_id: ExternalId
    reason: HoldRejectionReason
    detail: Detail
    certificate_id: UUID | None = Field(
        None, description="The certificate the request reached; null for an unknown code or a throttled request."
    )


class CaptureRejected(Event):
    topic = Topic.CAPTURE_REJECTED
    request_id: UUID
    hold_id: UUID
    reason: CaptureRejectionReason
    detail: Detail
    certificate_id: UUID | None = Field(None, description="The hold's certificate; null for an unknown hold.")


class HoldReleased(Event):
    """v2. A hold gave back what it reserved: on a release request, or the rest of a partial capture
    (then after its certificate-redeemed, with the capture's request_id)."""

    topic = Topic.HOLD_RELEASED
    request_id: UUID
    hold_id: UUID
    certificate_id: UUID
    amount_released: Money
    available_after: Balance


class ReleaseRejected(Event):
    topic = Topic.RELEASE_REJECTED
    request_id: UUID
    hold_id: UUID
    reason: ReleaseRejectionReason
    detail: Detail
    certificate_id: UUID | None = Field(None, description="The hold's certificate; null for an unknown hold.")


class HoldExpired(Event):
    """v2. A tick found a live hold past its `hold_expires_at` and gave back what it reserved."""

    topic = Topic.HOLD_EXPIRED
    hold_id: UUID
    order_id: ExternalId
    certificate_id: UUID
    amount_released: Money
    available_after: Balance


EVENT_TYPES: tuple[type[Event], ...] = (
    CertificateCreated, PurchaseRejected, CertificateActivated, PaymentRejected, PdfReady,
    CertificateSent, CertificateRedeemed, RedemptionRejected, CertificateVoided, VoidRejected,
    CertificateReactivated, ReactivateRejected, CertificateExpired, CertificateExpiringSoon,
    HoldPlaced, HoldRejected, CaptureRejected, HoldReleased, ReleaseRejected, HoldExpired,
)
EVENT_TYPE_BY_TOPIC: dict[Topic, type[Event]] = {t.topic: t for t in EVENT_TYPES}
