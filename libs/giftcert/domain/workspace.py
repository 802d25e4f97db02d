"""A workspace (tenant) and the settings its certificates are sold and kept under."""

from dataclasses import dataclass
from typing import Literal

RedemptionMode = Literal["full", "partial"]
REDEMPTION_MODES: tuple[RedemptionMode, ...] = ("full", "partial")
HOLD_SECONDS_LIMIT = 86_400 * 30
REFUND_VALIDITY_DAYS_LIMIT = 3650
PENDING_DAYS_LIMIT = 3650


class InvalidSettingsError(ValueError):
    """Settings that break a rule of their own, named by the field the rule is about (the first of a pair)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    workspace_id: str
    name: str
    portal_enabled: bool = False
    currency: str = "EUR"
    min_minor: int = 1000
    max_minor: int = 100000
    expiry_days: int = 365
    reminder_days: int = 30
    send_activation_email: bool = True
    """Whether activation emails the certificate to its recipient (else operators send it)."""
    redemption_mode: RedemptionMode = "full"
    """`full`: a certificate pays one booking with its whole value (v1); `partial`: any amount up to
    its balance, the rest kept for later bookings."""
    hold_seconds_default: int = 900
    hold_seconds_max: int = 86_400
    refund_validity_days: int = 90
    """How long a certificate past its expiry stays usable after a refund brings value back."""
    pending_days: int = 0
    """How long a certificate may wait for its payment before a tick voids it (`unpaid`); 0 (the
    default, v1's rule): for ever. The contract's v2 names 7 as the default, which would give a
    workspace that changes nothing a transition v1 does not have: decision 28."""
    remaining_balance_email: bool = False
    """Whether a redemption that leaves a balance emails the recipient what is left (off: none)."""
    locale: str = "en"
    """BCP 47: the language and formats of the PDFs and emails of a purchase that names none."""

    def __post_init__(self) -> None:
        if not 0 < self.min_minor <= self.max_minor:
            raise InvalidSettingsError(
                "min_minor",
                f"the smallest amount ({self.min_minor}) must be positive and at most the largest ({self.max_minor})",
            )
        if self.expiry_days < 1 or self.reminder_days < 0:
            raise InvalidSettingsError(
                "expiry_days" if self.expiry_days < 1 else "reminder_days",
                "certificates last at least a day, and reminders come 0 or more days before expiry",
            )
        if self.redemption_mode not in REDEMPTION_MODES:
            modes = ", ".join(REDEMPTION_MODES)
            raise InvalidSettingsError(
                "redemption_mode", f"the redemption mode is one of {modes}, not {self.redemption_mode!r}"
            )
        if not 1 <= self.hold_seconds_default <= self.hold_seconds_max <= HOLD_SECONDS_LIMIT:
            raise InvalidSettingsError(
                "hold_seconds_default" if self.hold_seconds_default < 1 else "hold_seconds_max",
                f"holds last at least a second by default ({self.hold_seconds_default}), at most the maximum "
                f"({self.hold_seconds_max}), which is at most {HOLD_SECONDS_LIMIT}"
            )
        if not 1 <= self.refund_validity_days <= REFUND_VALIDITY_DAYS_LIMIT:
            raise InvalidSettingsError(
                "refund_validity_days",
                f"a refund keeps a certificate usable for 1 to {REFUND_VALIDITY_DAYS_LIMIT} days",
            )
        if not 0 <= self.pending_days <= PENDING_DAYS_LIMIT:
            raise InvalidSettingsError(
                "pending_days", f"a certificate waits 0 (for ever) to {PENDING_DAYS_LIMIT} days for its payment"
            )

    @classmethod
    def defaults(cls, workspace_id: str) -> "WorkspaceSettings":
        return cls(workspace_id=workspace_id, name=workspace_id)
