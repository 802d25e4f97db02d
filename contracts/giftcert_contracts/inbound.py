"""Messages the service consumes. Unknown fields are ignored; a missing or malformed field fails
validation, which sends the message to its dead-letter topic."""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator
from pydantic_core import PydanticCustomError

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
CertificateKind = Literal["purchased", "promotional", "credit"]
"""v2. `purchased`: paid (v1's only kind); `promotional`: issued free by an operator; `credit`: issued
by an operator instead of a cash refund, naming the order it replaces."""


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
    kind: CertificateKind = Field(
        "purchased",
        description="v2. `promotional` and `credit` are issued by an operator (channel `admin`) without a payment: "
        "active at once, with a `reason`; a `credit` names the order it replaces (`replaces_order_id`).",
    )
    reason: Reason | None = Field(None, description="v2. Why a `promotional` or `credit` certificate is issued.")
    replaces_order_id: ExternalId | None = Field(None, description="v2. The order a `credit` certificate replaces.")

    @model_validator(mode="after")
    def _kind_has_what_it_needs(self) -> "PurchaseRequested":
        """The kinds' rule, the same whichever door a request comes in by. Each refusal has a type of
        its own (`kind_needs_reason`...), for a door that says it in its own words (the console)."""
        if self.kind == "purchased":
            if self.reason is not None or self.replaces_order_id is not None:
                raise PydanticCustomError(
                    "kind_takes_no_reason", "a purchased certificate takes no reason and replaces no order"
                )
            return self
        if self.channel != "admin":
            raise PydanticCustomError(
                "kind_needs_operator", "only an operator (channel admin) issues a {kind} certificate",
                {"kind": self.kind},
            )
        if self.reason is None:
            raise PydanticCustomError("kind_needs_reason", "a {kind} certificate needs a reason", {"kind": self.kind})
        if (self.kind == "credit") != (self.replaces_order_id is not None):
            raise PydanticCustomError(
                "credit_names_replaced_order",
                "a credit certificate names the order it replaces (replaces_order_id); no other does",
            )
        return self


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
