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
    """Value of the certificates active now, whenever issued: what may still be redeemed."""
    breakage_minor: int
    """Value of the certificates that expired in the period: never to be redeemed."""
    liability_by_kind: dict[str, int] = field(default_factory=dict)
    """`outstanding_liability_minor` by kind (purchased, promotional, credit); every kind present.
    Revenue and popular amounts count `purchased` certificates only."""


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
