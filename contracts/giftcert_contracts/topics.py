"""Topic base names of the wire contract. The deployed name is a setting (prefix + base name)."""

from enum import StrEnum


class Topic(StrEnum):
    # inbound: the service consumes these
    PURCHASE_REQUESTED = "purchase-requested"
    PAYMENT_COMPLETED = "payment-completed"
    BOOKING_REDEEM_REQUEST = "booking-redeem-request"
    VOID = "void"
    REACTIVATE = "reactivate"
    EXPIRY_TICK = "expiry-tick"
    BOOKING_HOLD_REQUEST = "booking-hold-request"
    BOOKING_CAPTURE_REQUEST = "booking-capture-request"
    BOOKING_RELEASE_REQUEST = "booking-release-request"
    # outbound: the service publishes these
    CERTIFICATE_CREATED = "certificate-created"
    PURCHASE_REJECTED = "purchase-rejected"
    CERTIFICATE_ACTIVATED = "certificate-activated"
    PAYMENT_REJECTED = "payment-rejected"
    PDF_READY = "pdf-ready"
    CERTIFICATE_SENT = "certificate-sent"
    CERTIFICATE_REDEEMED = "certificate-redeemed"
    REDEMPTION_REJECTED = "redemption-rejected"
    CERTIFICATE_VOIDED = "certificate-voided"
    VOID_REJECTED = "void-rejected"
    CERTIFICATE_REACTIVATED = "certificate-reactivated"
    REACTIVATE_REJECTED = "reactivate-rejected"
    CERTIFICATE_EXPIRED = "certificate-expired"
    CERTIFICATE_EXPIRING_SOON = "certificate-expiring-soon"
    HOLD_PLACED = "hold-placed"
    HOLD_REJECTED = "hold-rejected"
    CAPTURE_REJECTED = "capture-rejected"
    HOLD_RELEASED = "hold-released"
    RELEASE_REJECTED = "release-rejected"
    HOLD_EXPIRED = "hold-expired"


INBOUND_TOPICS: tuple[Topic, ...] = (
    Topic.PURCHASE_REQUESTED,
    Topic.PAYMENT_COMPLETED,
    Topic.BOOKING_REDEEM_REQUEST,
    Topic.VOID,
    Topic.REACTIVATE,
    Topic.EXPIRY_TICK,
    Topic.BOOKING_HOLD_REQUEST,
    Topic.BOOKING_CAPTURE_REQUEST,
    Topic.BOOKING_RELEASE_REQUEST,
)

CHECKOUT_REPLY_TOPICS: tuple[Topic, ...] = (Topic.CERTIFICATE_REDEEMED, Topic.REDEMPTION_REJECTED)
"""The answers to a booking-redeem-request: a customer waits at checkout for one of them."""

DEAD_LETTER_SUFFIX = ".dlq"
