"""Messages the service consumes. Unknown fields are ignored; a missing or malformed field fails
validation, which sends the message to its dead-letter topic."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

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


class RefundCertificate(InboundMessage):
    """v2. The booking platform gives back value a redemption applied (a cancelled booking): it is
    credited to the certificate the redemption came from. Key: request_id."""

    request_id: UUID
    order_id: ExternalId
    redemption_id: UUID = Field(
        description="The `request_id` of the redeem or capture that applied the value, on this order."
    )
    amount: Money
    reason: Reason
    requested_at: Timestamp


class CheckExpiries(InboundMessage):
    """A scheduler tick: expire what has passed `now`, remind what expires soon. Key: tick_id."""

    tick_id: UUID
    now: Timestamp
