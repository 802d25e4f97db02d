"""Request and response bodies of the HTTP API. Inputs reuse the wire contract's field types, so a
name, an email or an amount is held to the same rules whichever door it comes in by."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from giftcert.domain.certificate import Certificate, Kind, Status
from giftcert.domain.product import Product
from giftcert.domain.workspace import (
    HOLD_SECONDS_LIMIT,
    PENDING_DAYS_LIMIT,
    REFUND_VALIDITY_DAYS_LIMIT,
    WorkspaceSettings,
)
from giftcert.operations.details import CertificateDetails
from giftcert.operations.search import MAX_PAGE_SIZE
from giftcert_contracts.fields import ExternalId, LocaleTag, Name, Person, PersonalMessage, Reason, Segment
from giftcert_contracts.money import MAX_MINOR, CurrencyCode, Money

MinorUnits = Annotated[StrictInt, Field(gt=0, le=MAX_MINOR)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PurchaseBody(_Input):
    certificate_id: UUID | None = Field(
        None, description="Chosen by the caller: the purchase's idempotency key (or the Idempotency-Key header)."
    )
    amount: Money
    purchaser: Person
    recipient: Person
    message: PersonalMessage | None = None
    segment: Segment | None = None
    locale: LocaleTag | None = Field(
        None, description="BCP 47 (`de-AT`, `ja`): the language and formats of the recipient's email and PDF, as "
        "`purchase-requested`'s `locale` (the same rule); default the workspace's locale."
    )


class IssueBody(PurchaseBody):
    """An operator's certificate: `purchased` (pending until paid, v1), or v2's `promotional` and
    `credit`, issued without a payment and active at once."""

    kind: Kind = "purchased"
    reason: Reason | None = Field(None, description="Why a promotional or credit certificate is issued (required).")
    replaces_order_id: ExternalId | None = Field(
        None, description="The order a credit certificate replaces (required)."
    )


class PaymentBody(_Input):
    payment_reference: ExternalId | None = Field(
        None, description="The offline payment's own reference: its idempotency key (or the Idempotency-Key header)."
    )


class DecisionBody(_Input):
    reason: Reason
    request_id: UUID | None = Field(
        None, description="Idempotency key (or the Idempotency-Key header); a repeat returns the first decision. "
        "A new one when omitted."
    )


class SettingsChange(_Input):
    """Only the fields given change."""

    name: Name | None = None
    portal_enabled: bool | None = None
    currency: CurrencyCode | None = None
    min_minor: MinorUnits | None = None
    max_minor: MinorUnits | None = None
    expiry_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None
    reminder_days: Annotated[StrictInt, Field(ge=0, le=3650)] | None = None
    send_activation_email: bool | None = None
    redemption_mode: Literal["full", "partial"] | None = Field(
        None, description="`full` (default): a certificate pays one booking with its whole value; `partial`: any "
        "amount up to its balance, the rest kept for later bookings."
    )
    hold_seconds_default: Annotated[StrictInt, Field(ge=1, le=HOLD_SECONDS_LIMIT)] | None = None
    hold_seconds_max: Annotated[StrictInt, Field(ge=1, le=HOLD_SECONDS_LIMIT)] | None = None
    refund_validity_days: Annotated[StrictInt, Field(ge=1, le=REFUND_VALIDITY_DAYS_LIMIT)] | None = None
    locale: LocaleTag | None = Field(
        None, description="BCP 47: the default language and formats of emails, PDFs and the workspace's pages."
    )
    pending_days: Annotated[StrictInt, Field(ge=0, le=PENDING_DAYS_LIMIT)] | None = Field(
        None,
        description="Days a certificate waits for its payment before a tick voids it as `unpaid`; "
        "0 (the default, as in v1): for ever.",
    )
    remaining_balance_email: bool | None = Field(
        None, description="Email the recipient what is left after a redemption that leaves a balance (default off)."
    )


class ProductBody(_Input):
    name: Name
    fixed_amounts: Annotated[list[MinorUnits], Field(max_length=50)] = Field(default_factory=list)
    min_minor: MinorUnits | None = None
    max_minor: MinorUnits | None = None
    segments: Annotated[list[Segment], Field(max_length=50)] = Field(default_factory=list)
    segment_restricted_redemption: bool = False
    active: bool = True


class Amount(BaseModel):
    minor: int
    currency: str
    formatted: str


def _amount(certificate: Certificate) -> Amount:
    value = certificate.amount
    return Amount(minor=value.minor, currency=value.currency, formatted=value.formatted())


class PublicCertificate(BaseModel):
    """What the portal may show its customer: no code, no addresses."""

    certificate_id: UUID
    status: str
    amount: Amount
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, certificate: Certificate) -> "PublicCertificate":
        return cls(
            certificate_id=certificate.id, status=certificate.status.value, amount=_amount(certificate),
            created_at=certificate.created_at, expires_at=certificate.expires_at,
        )


class Party(BaseModel):
    name: str
    email: str


class CertificateSummary(BaseModel):
    certificate_id: UUID
    status: str
    amount: Amount
    code_last4: str
    channel: str
    kind: str
    segment: str | None
    product_id: UUID | None
    purchaser: Party
    recipient: Party
    created_at: datetime
    activated_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, c: Certificate) -> "CertificateSummary":
        return cls(
            certificate_id=c.id, status=c.status.value, amount=_amount(c), code_last4=c.code_last4,
            channel=c.channel, kind=c.kind, segment=c.segment, product_id=c.product_id,
            purchaser=Party(name=c.purchaser_name, email=c.purchaser_email),
            recipient=Party(name=c.recipient_name, email=c.recipient_email),
            created_at=c.created_at, activated_at=c.activated_at, expires_at=c.expires_at,
        )


class ActivityOut(BaseModel):
    kind: str
    occurred_at: datetime
    actor: str | None
    reason: str | None
    reference: str | None


class CertificateDetail(CertificateSummary):
    """An operator look-up: the one place outside the PDF and email where the full code shows."""

    code: str
    message: str | None
    payment_id: str | None
    redeemed_at: datetime | None
    voided_at: datetime | None
    expired_at: datetime | None
    order_id: str | None = Field(description="The booking order a redemption paid for.")
    orders: list[str] = Field(
        default_factory=list,
        description="v2. Every booking order the certificate paid for (by a redemption or a capture), first paid "
        "first: `GET .../orders/{order_id}` shows each.",
    )
    activity: list[ActivityOut]
    locale: str | None = Field(None, description="The recipient's locale its purchase named; null: the workspace's.")

    @classmethod
    def of_details(cls, details: CertificateDetails) -> "CertificateDetail":
        c = details.certificate
        return cls(
            **CertificateSummary.of(c).model_dump(),
            code=c.code, message=c.message, payment_id=c.payment_id, redeemed_at=c.redeemed_at,
            voided_at=c.voided_at, expired_at=c.expired_at, order_id=details.order_id, orders=details.orders,
            locale=c.locale,
            activity=[
                ActivityOut(kind=e.kind.value, occurred_at=e.occurred_at, actor=e.actor, reason=e.reason,
                            reference=e.reference)
                for e in details.activity
            ],
        )


_SEARCH_TEXT = r"^[^\x00-\x1f\x7f]*$"


class ExportFilters(_Input):
    """The filters of `POST .../certificates/export`: those of a search but a code, and no page."""

    purchaser_email: str | None = Field(None, max_length=320, pattern=_SEARCH_TEXT, description="Exact, ignoring case.")
    recipient_email: str | None = Field(None, max_length=320, pattern=_SEARCH_TEXT, description="Exact, ignoring case.")
    status: Status | None = None
    kind: Kind | None = None
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None
    expires_from: AwareDatetime | None = None
    expires_to: AwareDatetime | None = None


class ListFilters(ExportFilters):
    """The filters of `GET .../certificates`: anything but a code, which never travels in a URL."""

    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    after: str | None = Field(
        None, max_length=200, pattern=_SEARCH_TEXT, description="`next_cursor` of the page before."
    )


class SearchFilters(ListFilters):
    """The filters of `POST .../certificates/search`: those of the GET and a code, in the body."""

    code: str | None = Field(
        None, max_length=64, pattern=_SEARCH_TEXT, description="Any spelling: case, spaces and dashes are ignored."
    )


class SearchResult(BaseModel):
    certificates: list[CertificateSummary]
    next_cursor: str | None = Field(description="Pass as `after` for the next page; null on the last.")


class ProductOut(BaseModel):
    product_id: UUID
    name: str
    fixed_amounts: list[int]
    min_minor: int | None
    max_minor: int | None
    segments: list[str]
    segment_restricted_redemption: bool
    active: bool

    @classmethod
    def of(cls, p: Product) -> "ProductOut":
        return cls(
            product_id=p.id, name=p.name, fixed_amounts=list(p.fixed_amounts), min_minor=p.min_minor,
            max_minor=p.max_minor, segments=list(p.segments),
            segment_restricted_redemption=p.segment_restricted_redemption, active=p.active,
        )


class ProductOffer(BaseModel):
    product_id: UUID
    name: str
    fixed_amounts: list[int]
    min_minor: int | None
    max_minor: int | None


class PurchaseForm(BaseModel):
    enabled: bool
    currency: str
    min_minor: int
    max_minor: int
    products: list[ProductOffer] = Field(description="Empty: any amount between min and max.")


class SettingsOut(BaseModel):
    workspace_id: str
    name: str
    portal_enabled: bool
    currency: str
    min_minor: int
    max_minor: int
    expiry_days: int
    reminder_days: int
    send_activation_email: bool
    redemption_mode: Literal["full", "partial"]
    hold_seconds_default: int
    hold_seconds_max: int
    refund_validity_days: int
    locale: str = "en"
    pending_days: int
    remaining_balance_email: bool

    @classmethod
    def of(cls, s: WorkspaceSettings) -> "SettingsOut":
        return cls(
            workspace_id=s.workspace_id, name=s.name, portal_enabled=s.portal_enabled, currency=s.currency,
            min_minor=s.min_minor, max_minor=s.max_minor, expiry_days=s.expiry_days,
            reminder_days=s.reminder_days, send_activation_email=s.send_activation_email,
            redemption_mode=s.redemption_mode, hold_seconds_default=s.hold_seconds_default,
            hold_seconds_max=s.hold_seconds_max, refund_validity_days=s.refund_validity_days,
            locale=s.locale,
            pending_days=s.pending_days,
            remaining_balance_email=s.remaining_balance_email,
        )


class Sent(BaseModel):
    certificate_id: UUID
    to: str
    outcome: Literal["sent"] = "sent"
