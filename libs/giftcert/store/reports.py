"""The operators' reports as queries: sales figures and the certificates about to expire.

Each figure is one set-based query (GROUP BY, aggregates with FILTER), never a walk over rows in Python.
A period is whole UTC days, both ends included: [start 00:00 UTC, end + 1 day 00:00 UTC).

Money figures (revenue, popular amounts, liability, breakage, redeemed and refunded value) count only
the report's currency, because sums across currencies mean nothing; counts (statuses, the funnel, the
redemption rate) count every certificate of the workspace. Sales are counted when paid (`activated_at`),
not when ordered, and only `purchased` certificates are sales: `promotional` and `credit` ones count in
liability and breakage (by kind), never in revenue or popular amounts.

Liability and breakage are balances (contract v2), read with the one rule a balance inquiry uses
(`store.certificates.KEPT_BALANCE`), not values: after a partial redemption a certificate owes less
than it was issued for. Value redeemed and refunded in the period are the ledger's entries made in it.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.certificate import KINDS, Status
from giftcert.domain.reports import AmountPopularity, ExpiringCertificate, MonthRevenue, SalesReport
from giftcert.store.certificates import KEPT_BALANCE
from giftcert.store.ledger import REDEMPTION_KINDS, EntryKind
from giftcert.store.schema import certificates, ledger_entries

SECONDS_PER_DAY = 86_400
POPULAR_AMOUNTS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class _Period:
    """The UTC days start..end, both included: the instants [since, until)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"the period starts ({self.start.isoformat()}) after it ends ({self.end.isoformat()})")

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def holds(self, column: ColumnElement[datetime | None]) -> ColumnElement[bool]:
        return and_(column >= self.since, column < self.until)

    def months(self) -> list[date]:
        """The first day of every month from start's to end's."""
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


async def _revenue_by_month(
    connection: AsyncConnection, workspace_id: str, period: _Period, currency: str
) -> list[MonthRevenue]:
    month = func.date_trunc("month", certificates.c.activated_at.op("AT TIME ZONE")(literal_column("'UTC'")))
    query = (
        select(month.label("month"), func.count().label("sold"), func.sum(certificates.c.amount_minor).label("sum"))
        .where(
            certificates.c.workspace_id == workspace_id,
            certificates.c.currency == currency,
            certificates.c.kind == "purchased",  # promotional and credit certificates were not sold
            period.holds(certificates.c.activated_at),
        )
        .group_by(month)
    )
    sold = {row.month.date(): (row.sold, int(row.sum)) for row in await connection.execute(query)}
    return [MonthRevenue(first, *sold.get(first, (0, 0))) for first in period.months()]


async def _certificates_by_status(connection: AsyncConnection, workspace_id: str, period: _Period) -> dict[str, int]:
    query = (
        select(certificates.c.status, func.count())
        .where(certificates.c.workspace_id == workspace_id, period.holds(certificates.c.created_at))
        .group_by(certificates.c.status)
    )
    counted: dict[str, int] = dict((await connection.execute(query)).all())
    return {status.value: counted.get(status.value, 0) for status in Status}


async def _popular_amounts(
    connection: AsyncConnection, workspace_id: str, period: _Period, currency: str
) -> list[AmountPopularity]:
    sold = func.count().label("sold")
    query = (
        select(certificates.c.amount_minor, sold)
        .where(
            certificates.c.workspace_id == workspace_id,
            certificates.c.currency == currency,
            certificates.c.kind == "purchased",
            period.holds(certificates.c.activated_at),
        )
        .group_by(certificates.c.amount_minor)
        .order_by(sold.desc(), certificates.c.amount_minor)
        .limit(POPULAR_AMOUNTS_SHOWN)
    )
    return [AmountPopularity(amount, count) for amount, count in await connection.execute(query)]


async def _funnel(connection: AsyncConnection, workspace_id: str, period: _Period) -> tuple[int, int, int]:
    query = select(
        func.count(),
        func.count().filter(certificates.c.activated_at.is_not(None)),
        func.count().filter(certificates.c.redeemed_at.is_not(None)),
    ).where(certificates.c.workspace_id == workspace_id, period.holds(certificates.c.created_at))
    created, activated, redeemed = (await connection.execute(query)).one()
    return created, activated, redeemed


async def _redemption(
    connection: AsyncConnection, workspace_id: str, period: _Period
) -> tuple[float | None, float | None]:
    """The redemption rate and mean days to redemption of the certificates activated in the period."""
    redeemed = certificates.c.redeemed_at.is_not(None)
    seconds = func.extract("epoch", certificates.c.redeemed_at - certificates.c.activated_at)
    query = select(
        func.count(), func.count().filter(redeemed), func.avg(seconds).filter(redeemed)
    ).where(certificates.c.workspace_id == workspace_id, period.holds(certificates.c.activated_at))
    activated, redeemed_count, mean_seconds = (await connection.execute(query)).one()
    rate = redeemed_count / activated if activated else None
    days = float(mean_seconds) / SECONDS_PER_DAY if mean_seconds is not None else None
    return rate, days


@dataclass(frozen=True, slots=True)
class _ByKind:
    """A money figure and a count, by certificate kind (every kind present)."""

    minor: dict[str, int]
    count: dict[str, int]


def _every_kind() -> dict[str, int]:
    return dict.fromkeys(KINDS, 0)


async def _liability_and_breakage(
    connection: AsyncConnection, workspace_id: str, period: _Period, currency: str
) -> tuple[dict[str, int], dict[str, int]]:
    """By kind: the balances of the certificates active now, and those left on the certificates
    that expired in the period and are still expired. The balance is `KEPT_BALANCE`, the rule a
    balance inquiry reads and `giftcert ledger verify` checks against the ledger's entries; a
    certificate's balance does not move while it is expired (only a refund, which reactivates it and
    clears `expired_at`), so an expired one's balance is the one it had when it expired."""
    active = certificates.c.status == Status.ACTIVE.value
    expired = and_(certificates.c.status == Status.EXPIRED.value, period.holds(certificates.c.expired_at))
    query = (
        select(
            certificates.c.kind,
            func.coalesce(func.sum(KEPT_BALANCE).filter(active), 0),
            func.coalesce(func.sum(KEPT_BALANCE).filter(expired), 0),
        )
        .where(certificates.c.workspace_id == workspace_id, certificates.c.currency == currency)
        .group_by(certificates.c.kind)
    )
    liability, breakage = _every_kind(), _every_kind()
    for kind, owed, lost in await connection.execute(query):
        liability[str(kind)], breakage[str(kind)] = int(owed), int(lost)
    return liability, breakage


async def _ledger_moves(
    connection: AsyncConnection, workspace_id: str, period: _Period, currency: str, kinds: frozenset[EntryKind]
) -> _ByKind:
    """The ledger's entries of `kinds` made in the period, by the kind of their certificate: their
    amounts' absolute sum (a redemption's entry is a debit) and how many there are."""
    query = (
        select(
            certificates.c.kind,
            func.coalesce(func.sum(func.abs(ledger_entries.c.amount_minor)), 0),
            func.count(),
        )
        .select_from(ledger_entries.join(certificates, certificates.c.id == ledger_entries.c.certificate_id))
        .where(
            ledger_entries.c.workspace_id == workspace_id,
            ledger_entries.c.currency == currency,
            ledger_entries.c.kind.in_(sorted(kind.value for kind in kinds)),
            period.holds(ledger_entries.c.occurred_at),
        )
        .group_by(certificates.c.kind)
    )
    moved = _ByKind(_every_kind(), _every_kind())
    for kind, minor, count in await connection.execute(query):
        moved.minor[str(kind)], moved.count[str(kind)] = int(minor), int(count)
    return moved


async def sales_report(
    connection: AsyncConnection, workspace_id: str, *, start: date, end: date, currency: str
) -> SalesReport:
    """Sales of one workspace over the UTC days start..end (both included); ValueError if start > end."""
    period = _Period(start, end)
    created, activated, redeemed = await _funnel(connection, workspace_id, period)
    rate, days = await _redemption(connection, workspace_id, period)
    liability_by_kind, breakage_by_kind = await _liability_and_breakage(connection, workspace_id, period, currency)
    redeemed_value = await _ledger_moves(connection, workspace_id, period, currency, REDEMPTION_KINDS)
    refunded = await _ledger_moves(connection, workspace_id, period, currency, frozenset({EntryKind.REFUNDED}))
    return SalesReport(
        workspace_id=workspace_id,
        currency=currency,
        start=start,
        end=end,
        revenue_by_month=await _revenue_by_month(connection, workspace_id, period, currency),
        certificates_by_status=await _certificates_by_status(connection, workspace_id, period),
        popular_amounts=await _popular_amounts(connection, workspace_id, period, currency),
        created=created,
        activated=activated,
        redeemed=redeemed,
        redemption_rate=rate,
        average_days_to_redemption=days,
        outstanding_liability_minor=sum(liability_by_kind.values()),
        breakage_minor=sum(breakage_by_kind.values()),
        liability_by_kind=liability_by_kind,
        breakage_by_kind=breakage_by_kind,
        redeemed_value_minor=sum(redeemed_value.minor.values()),
        redemption_count=sum(redeemed_value.count.values()),
        redeemed_value_by_kind=redeemed_value.minor,
        redemption_count_by_kind=redeemed_value.count,
        refunded_value_minor=sum(refunded.minor.values()),
        refund_count=sum(refunded.count.values()),
    )


async def expiring_certificates(
    connection: AsyncConnection, workspace_id: str, *, now: datetime, within_days: int, limit: int = 1000
) -> list[ExpiringCertificate]:
    """Active certificates with now < expires_at <= now + within_days, soonest first: whom to remind."""
    if within_days < 0:
        raise ValueError(f"within_days must be 0 or more, not {within_days}")
    query = (
        select(
            certificates.c.id,
            func.right(certificates.c.code, 4),
            certificates.c.amount_minor,
            certificates.c.currency,
            certificates.c.recipient_email,
            certificates.c.expires_at,
            certificates.c.expiring_soon_notified_at.is_not(None),
        )
        .where(
            certificates.c.workspace_id == workspace_id,
            certificates.c.status == Status.ACTIVE.value,
            certificates.c.expires_at > now,
            certificates.c.expires_at <= now + timedelta(days=within_days),
        )
        .order_by(certificates.c.expires_at, certificates.c.id)
        .limit(limit)
    )
    return [ExpiringCertificate(*row) for row in await connection.execute(query)]


async def certificates_by_workspace_and_status(connection: AsyncConnection) -> dict[tuple[str, str], int]:
    """How many certificates each (workspace, status) has now, with one GROUP BY over them all."""
    query = select(certificates.c.workspace_id, certificates.c.status, func.count()).group_by(
        certificates.c.workspace_id, certificates.c.status
    )
    return {(str(workspace), str(status)): int(count) for workspace, status, count in await connection.execute(query)}
