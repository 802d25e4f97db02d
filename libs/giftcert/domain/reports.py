"""What an operator's reports hold (store/reports.py computes them, rendering/sales_report_pdf.py
prints them). Money figures are minor units of the report's one currency; a period is whole UTC days,
both ends included."""

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class MonthRevenue:
    month: date
    """The first day of the month."""
    certificates: int
    revenue_minor: int


@dataclass(frozen=True, slots=True)
class AmountPopularity:
    amount_minor: int
    certificates: int


@dataclass(frozen=True, slots=True)
class SalesReport:
    workspace_id: str
    currency: str
    start: date
    end: date
    """Both inclusive, UTC days."""
    revenue_by_month: list[MonthRevenue]
    """Every month from start to end, months without sales included (as zeros)."""
    certificates_by_status: dict[str, int]
    """Certificates created in the period, by their status now; every status is present."""
    popular_amounts: list[AmountPopularity]
    """Certificates activated in the period by amount: most sold first, ties smaller amount first."""
    created: int
    activated: int
    redeemed: int
    """The funnel: certificates created in the period; of those, activated; of those, redeemed."""
    redemption_rate: float | None
    """Redeemed / activated over the certificates activated in the period; None when none was."""
    average_days_to_redemption: float | None
    """Mean days from activation to redemption over those of them that were redeemed."""
    outstanding_liability_minor: int
    """The balances (value - applied + refunded, as the ledger keeps them) of the certificates active
    now, whenever issued: what may still be redeemed. A live hold does not lower it (held value is
    owed until a capture applies it). Until a certificate is partly redeemed its balance is its
    value, so a `full` workspace's figure is v1's."""
    breakage_minor: int
    """The balances lost at expiry: what the certificates that expired in the period and are still
    expired had left when they expired (an expired certificate's balance cannot change), never to
    be redeemed. One brought back to `active` by a refund (decision 28) is not counted: its whole
    balance, what was left at expiry plus the refund, is in the liability again; should it expire
    again in the period, its balance at that expiry counts."""
    liability_by_kind: dict[str, int] = field(default_factory=dict)
    """`outstanding_liability_minor` by kind (purchased, promotional, credit); every kind present.
    Revenue and popular amounts count `purchased` certificates only."""
    breakage_by_kind: dict[str, int] = field(default_factory=dict)
    """`breakage_minor` by kind; every kind present."""
    redeemed_value_minor: int = 0
    """Value applied to orders in the period: the sum of the redemptions and captures made in it
    (ledger entries `redeemed` and `captured`), gross: refunds are not deducted (see refunded_*)."""
    redemption_count: int = 0
    """How many redemptions and captures applied value in the period (a partial one counts once)."""
    redeemed_value_by_kind: dict[str, int] = field(default_factory=dict)
    """`redeemed_value_minor` by kind of the certificate it came from; every kind present."""
    redemption_count_by_kind: dict[str, int] = field(default_factory=dict)
    """`redemption_count` by kind; every kind present."""
    refunded_value_minor: int = 0
    """Value credited back to certificates by refunds made in the period (ledger entries `refunded`),
    whenever the redemption they give back was made."""
    refund_count: int = 0
    """How many refunds were made in the period."""


@dataclass(frozen=True, slots=True)
class ExpiringCertificate:
    certificate_id: UUID
    code_last4: str
    amount_minor: int
    currency: str
    recipient_email: str
    expires_at: datetime
    reminded: bool
    """Whether certificate-expiring-soon already went out for it."""
