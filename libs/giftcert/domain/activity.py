"""Kinds of entries in a certificate's activity log; each is written with the change it records."""

from enum import StrEnum


class ActivityKind(StrEnum):
    CREATED = "created"
    PURCHASED = "purchased"
    PURCHASED_FROM_PORTAL = "purchased_from_portal"
    ACTIVATED_FROM_PORTAL = "activated_from_portal"
    REDEEMED = "redeemed"
    VOIDED = "voided"
    REACTIVATED = "reactivated"
    SENT = "sent"
    EXPIRED = "expired"
    EXPIRING_SOON = "expiring_soon"
    REMINDER_SENT = "reminder_sent"
    HELD = "held"
    HOLD_RELEASED = "hold_released"
    HOLD_EXPIRED = "hold_expired"
    REFUNDED = "refunded"
    ISSUED = "issued"
    """A promotional or credit certificate issued without a payment (with the operator's reason)."""
    REMAINING_BALANCE_SENT = "remaining_balance_sent"
