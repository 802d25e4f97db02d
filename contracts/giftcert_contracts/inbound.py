"""Messages the service consumes. Unknown fields are ignored; a missing or malformed field fails
validation, which sends the message to its dead-letter topic."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from giftcert_contracts.fields import (
    Actor,
    ExternalId,
    LocaleTag,
    Person,
    PersonalMessage,
    Reason,
    Segment,
    Timestamp,
    WorkspaceId,
)
from giftcert_contracts.money import Money, OrderTotal, RequestedAmount

Channel = Literal["portal", "admin"]


class InboundMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    workspace_id: WorkspaceId


class PurchaseRequested(InboundMessage):
    """A customer (portal) or an operator (admin) asks for a new certificate. Key: certificate_id."""

    certificate_id: UUID
    amount: Money
    purchaser: Person
    recipient: Person
    message: PersonalMessage | None = None
    segment: Segment | None = None
    channel: Channel
    requested_at: Timestamp
    locale: LocaleTag | None = None
    """v2: the recipient's language and formats for the email and PDF; default the workspace's."""


class PaymentCompleted(InboundMessage):
    """The payment system took the money for a pending certificate. Key: payment_id."""

    payment_id: ExternalId
    certificate_id: UUID
    amount: Money
    completed_at: Timestamp


class RedeemCertificate(InboundMessage):
    """The booking platform applies a code as payment for an order. Key: request_id."""

    request_id: UUID
    order_id: ExternalId
    code: Annotated[str, Field(min_length=1, max_length=64)]
    order_total: OrderTotal
    segment: Segment | None = None
    requested_at: Timestamp
    amount: RequestedAmount | None = Field(
        None,
        description="v2. The amount to apply. In the workspace's `partial` mode any amount up to what is available "
        "and what the order still owes (default: the lesser of the two); in `full` mode, if given, it must equal "
        "the certificate's value (`invalid_amount` otherwise).",
    )


class HoldCertificate(InboundMessage):
    """v2. The booking platform reserves value of a code for an order while its customer finishes the
    checkout. Key: request_id, which becomes the hold's id."""

    request_id: UUID
    order_id: ExternalId
    code: Annotated[str, Field(min_length=1, max_length=64)]
    order_total: OrderTotal
    amount: RequestedAmount | None = Field(
        None,
        description="The amount to hold, as for a redeem: in `partial` mode any amount up to what is available and "
        "what the order still owes (default: the lesser of the two); in `full` mode, if given, the whole value.",
    )
    hold_seconds: Annotated[StrictInt, Field(ge=-(10**9), le=10**9)] | None = Field(
        None,
        description="How long the hold lasts: 1 to the workspace's `hold_seconds_max` (`invalid_hold_seconds` "
        "otherwise); default the workspace's `hold_seconds_default`.",
    )
    segment: Segment | None = None
    requested_at: Timestamp


class CaptureHold(InboundMessage):
    """v2. The booking platform applies what a live hold reserved (the customer paid). Key: request_id."""

    request_id: UUID
    hold_id: UUID
    amount: RequestedAmount | None = Field(
        None, description="At most the amount held; default all of it. What is not captured is released."
    )
    requested_at: Timestamp


class ReleaseHold(InboundMessage):
    """v2. The booking platform gives back what a live hold reserved (the checkout was abandoned). Key:
    request_id."""

    request_id: UUID
    hold_id: UUID
    reason: Reason | None = None


class VoidCertificate(InboundMessage):
    """An operator cancels an active certificate. Key: request_id."""

    request_id: UUID
    certificate_id: UUID
    reason: Reason
    actor: Actor


class ReactivateCertificate(InboundMessage):
    """An operator restores a voided certificate before it expires. Key: request_id."""

    request_id: UUID
    certificate_id: UUID
    reason: Reason
    actor: Actor


class CheckExpiries(InboundMessage):
    """A scheduler tick: expire what has passed `now`, remind what expires soon. Key: tick_id."""

    tick_id: UUID
    now: Timestamp
