"""Sales figures and the certificates about to expire, for operators: the store's set-based queries
(store/reports.py) and the figures' types (domain/reports.py), under the names the API and the CLI use."""

from giftcert.domain.reports import AmountPopularity, ExpiringCertificate, MonthRevenue, SalesReport
from giftcert.store.reports import expiring_certificates, sales_report

__all__ = [
    "AmountPopularity",
    "ExpiringCertificate",
    "MonthRevenue",
    "SalesReport",
    "expiring_certificates",
    "sales_report",
]
