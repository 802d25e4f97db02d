"""Certificates in PostgreSQL. Reads that precede a change lock the row (`FOR NO KEY UPDATE`), so two
transactions deciding about one certificate take turns; batch reads lock in primary-key order. The
lock is the one an UPDATE of the row takes, not `FOR UPDATE`: it leaves alone the rows that refer to
the certificate (an activity entry, a document, a ledger entry: their inserts lock it `FOR KEY
SHARE`), so writing those never holds up a decision, nor hides a row from a tick."""

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from functools import cache
from operator import attrgetter, itemgetter
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, RowMapping, TextClause, case, exists, func, insert, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.store.bulk import Writes, columns, rows_of
from giftcert.store.schema import CERTIFICATE_REMINDER_DUE, certificates, holds

_DIRECT_FIELDS = (
    "id", "workspace_id", "code", "channel", "segment", "purchaser_name", "purchaser_email",
    "recipient_name", "recipient_email", "message", "expiry_days", "payment_id", "created_at",
    "activated_at", "expires_at", "redeemed_at", "voided_at", "expired_at",
    "expiring_soon_notified_at", "product_id", "locale", "kind", "replaces_order_id",
)
_NO_BALANCE = (Status.PENDING, Status.REDEEMED)


def certificate_from_row(row: RowMapping) -> Certificate:
    """A row written before balances were kept (NULL) has the balance v1's status says: none while
    pending or once redeemed, else its whole amount. A redeemed certificate has none, whatever a
    release that did not keep balances left in the column."""
    status = Status(row["status"])
    balance = row["balance_minor"]
    if status is Status.REDEEMED or (balance is None and status in _NO_BALANCE):
        balance = 0
    elif balance is None:
        balance = row["amount_minor"]
    return Certificate(
        status=status,
        amount=Amount(row["amount_minor"], row["currency"]),
        balance_minor=balance,
        **{field: row[field] for field in _DIRECT_FIELDS},
    )


KEPT_BALANCE: ColumnElement[int] = case(
    (certificates.c.status == Status.REDEEMED.value, 0),
    else_=func.coalesce(
        certificates.c.balance_minor,
        case((certificates.c.status == Status.PENDING.value, 0), else_=certificates.c.amount_minor),
    ),
)
"""`certificate_from_row`'s balance as a column expression, for queries that sum balances (the
reports): the same rule, so a report and a balance inquiry never disagree about a certificate."""

_COLUMNS = (*_DIRECT_FIELDS, "status", "amount_minor", "currency", "balance_minor")
_DIRECT_VALUES = attrgetter(*_DIRECT_FIELDS)


def _values(certificate: Certificate) -> tuple[Any, ...]:
    """The certificate's row, in the order of `_COLUMNS`."""
    amount = certificate.amount
    return (
        *_DIRECT_VALUES(certificate), certificate.status.value, amount.minor, amount.currency, certificate.balance_minor
    )


def _to_row(certificate: Certificate) -> dict[str, Any]:
    return dict(zip(_COLUMNS, _values(certificate), strict=True))


_EVERY_COLUMN_BUT_ID = tuple(range(1, len(_COLUMNS)))
_Picker = Callable[[tuple[Any, ...]], tuple[Any, ...]]


def _differing(rows: Sequence[tuple[Any, ...]], before: Sequence[tuple[Any, ...] | None]) -> tuple[int, ...]:
    """The positions in `_COLUMNS` where some row differs from its row before (every one but the
    id's for a row whose before is not known). A batch's rows tend to change the same columns, so a
    row is compared value by value only where it differs outside the columns found so far (the
    id's position, 0, is in each comparison: one certificate's id never differs)."""
    differing: set[int] = set()
    elsewhere = itemgetter(0, *_EVERY_COLUMN_BUT_ID)
    for row, old in zip(rows, before, strict=True):
        if old is None:
            return _EVERY_COLUMN_BUT_ID
        if elsewhere(row) != elsewhere(old):
            differing.update(n for n, (value, was) in enumerate(zip(row, old, strict=True)) if value != was)
            elsewhere = itemgetter(0, *(n for n in _EVERY_COLUMN_BUT_ID if n not in differing))
    return tuple(sorted(differing))


@cache
def _save(positions: tuple[int, ...]) -> tuple[TextClause, tuple[str, ...], _Picker]:
    """The UPDATE of these columns by id (positions in `_COLUMNS`), the names it binds, and what
    picks their values out of a row."""
    names = (_COLUMNS[0], *(_COLUMNS[n] for n in positions))
    statement = text(
        f"UPDATE certificates SET {', '.join(f'{n} = v.{n}' for n in names[1:])} "  # noqa: S608 - names from the schema; values are bound
        f"FROM {rows_of(certificates, names)} WHERE certificates.id = v.id"
    )
    return statement, names, itemgetter(0, *positions)


_BY_CODES = (
    "SELECT * FROM certificates WHERE (workspace_id, code) IN "  # noqa: S608 - names from the schema; values are bound
    f"(SELECT * FROM {rows_of(certificates, ('workspace_id', 'code'))}) ORDER BY id"
)
_BY_CODES_LOCKED = text(f"{_BY_CODES} FOR NO KEY UPDATE")
_BY_IDS = "SELECT * FROM certificates WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id"
_BY_IDS_LOCKED = text(f"{_BY_IDS} FOR NO KEY UPDATE")
_BY_IDS_UNLOCKED = text(_BY_IDS)
_BY_CODES_UNLOCKED = text(_BY_CODES)


class CertificateRepository:
    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._connection = connection
        self._writes = writes or Writes(connection)
        self._as_known: dict[UUID, Certificate] = {}
        """Each certificate as this transaction read or last saved it (frozen: kept as it is, its
        row made only if it is saved)."""

    def _known(self, row: RowMapping) -> Certificate:
        certificate = certificate_from_row(row)
        self._as_known[certificate.id] = certificate
        return certificate

    async def add(self, certificate: Certificate) -> None:
        await self._connection.execute(insert(certificates).values(_to_row(certificate)))

    async def save(self, *changed: Certificate) -> None:
        """UPDATEs by id, in one statement however many, of the columns that differ from the rows
        this transaction read or saved: a redemption writes its status and redeemed_at, not all 23
        columns (docs/benchmarks.md, decision 18), and never puts back a stale
        copy of a column it did not change. All of them for a certificate it did not read; nothing
        when nothing differs."""
        rows = [_values(c) for c in changed]
        known = (self._as_known.get(c.id) for c in changed)
        positions = _differing(rows, [None if k is None else _values(k) for k in known])
        if not positions:
            return
        statement, names, picked = _save(positions)
        await self._writes.execute(statement, columns(map(picked, rows), names))
        self._as_known.update((c.id, c) for c in changed)

    async def get(self, workspace_id: str, certificate_id: UUID, *, lock: bool = False) -> Certificate | None:
        query = select(certificates).where(
            certificates.c.id == certificate_id, certificates.c.workspace_id == workspace_id
        )
        if lock:
            query = query.with_for_update(key_share=True)
        row = (await self._connection.execute(query)).mappings().first()
        return None if row is None else self._known(row)

    async def exists_anywhere(self, certificate_id: UUID) -> bool:
        query = select(certificates.c.id).where(certificates.c.id == certificate_id)
        return (await self._connection.execute(query)).first() is not None

    async def code_taken(self, workspace_id: str, code: str) -> bool:
        query = select(certificates.c.id).where(
            certificates.c.workspace_id == workspace_id, certificates.c.code == code
        )
        return (await self._connection.execute(query)).first() is not None

    async def get_by_code(self, workspace_id: str, code: str, *, lock: bool = False) -> Certificate | None:
        query = select(certificates).where(
            certificates.c.workspace_id == workspace_id, certificates.c.code == code
        )
        if lock:
            query = query.with_for_update(key_share=True)
        row = (await self._connection.execute(query)).mappings().first()
        return None if row is None else self._known(row)

    async def get_many(self, certificate_ids: Collection[UUID], *, lock: bool = False) -> dict[UUID, Certificate]:
        """The certificates of these ids that exist, in any workspace; locked in primary-key order
        when `lock`."""
        if not certificate_ids:
            return {}
        query = _BY_IDS_LOCKED if lock else _BY_IDS_UNLOCKED
        rows = (await self._connection.execute(query, {"ids": sorted(certificate_ids)})).mappings()
        return {c.id: c for c in map(self._known, rows)}

    async def get_many_by_code(
        self, codes: Collection[tuple[str, str]], *, lock: bool = False
    ) -> dict[tuple[str, str], Certificate]:
        """The certificates of the (workspace, normalized code) pairs that exist, by pair; locked
        in primary-key order when `lock`, so concurrent batches take their rows in the same order."""
        if not codes:
            return {}
        query = _BY_CODES_LOCKED if lock else _BY_CODES_UNLOCKED
        arrays = columns(codes, ("workspace_id", "code"))
        found = map(self._known, (await self._connection.execute(query, arrays)).mappings())
        return {(c.workspace_id, c.code): c for c in found}

    async def lock_expired(
        self, workspace_id: str, now: datetime, limit: int, *, skip_locked: bool = True
    ) -> Sequence[Certificate]:
        """Active certificates whose expiry has passed, locked.

        `skip_locked` (the bulk of a tick): soonest expiry first, skipping rows another transaction
        holds, so it never waits and cannot deadlock. Ordered by the status-and-expiry index alone,
        so a batch reads no more rows than it takes: a tie-breaker (`id`) would sort every row
        sharing an expiry, which a sale's certificates do by the thousand (docs/benchmarks.md, "How
        it was made faster").
        Else (for the rows skipped, once the bulk is done): waits for a row another transaction
        holds, and leaves it out if it no longer matches once that transaction commits. Ask for one
        row at a time then: a transaction that holds no other row while it waits cannot deadlock,
        nor hold up a redemption of another certificate.
        A certificate with a hold live at `now` is left out (contract v2: it expires at the first
        tick after its holds end)."""
        live_hold = exists().where(
            holds.c.certificate_id == certificates.c.id, holds.c.state == "live", holds.c.expires_at > now
        )
        return await self._lock(
            workspace_id, limit, skip_locked, certificates.c.status == Status.ACTIVE.value,
            certificates.c.expires_at <= now, ~live_hold,
        )

    async def lock_expiring_soon(
        self, workspace_id: str, now: datetime, horizon: datetime, limit: int, *, skip_locked: bool = True
    ) -> Sequence[Certificate]:
        """Active certificates expiring before `horizon` whose reminder is not yet out, locked, in the
        order and with the waiting of `lock_expired`; read through the partial index of those alone."""
        return await self._lock(
            workspace_id,
            limit,
            skip_locked,
            CERTIFICATE_REMINDER_DUE,
            certificates.c.expires_at > now,
            certificates.c.expires_at <= horizon,
        )

    async def lock_unpaid(
        self, workspace_id: str, created_before: datetime, limit: int, *, skip_locked: bool = True
    ) -> Sequence[Certificate]:
        """Pending certificates created before `created_before`, locked, oldest first, with the
        waiting of `lock_expired`; read through the partial index of pending ones alone. A payment
        deciding about one holds its lock: the tick skips it, then waits for it and finds it active."""
        return await self._lock(
            workspace_id, limit, skip_locked,
            certificates.c.status == literal_column(f"'{Status.PENDING.value}'"),
            certificates.c.created_at < created_before,
            order_by=certificates.c.created_at,
        )

    async def _lock(
        self, workspace_id: str, limit: int, skip_locked: bool, *matching: ColumnElement[bool],
        order_by: ColumnElement[Any] = certificates.c.expires_at,
    ) -> Sequence[Certificate]:
        query = (
            select(certificates)
            .where(certificates.c.workspace_id == workspace_id, *matching)
            .order_by(order_by)
            .limit(limit)
            .with_for_update(skip_locked=skip_locked, key_share=True)
        )
        return [self._known(r) for r in (await self._connection.execute(query)).mappings()]
