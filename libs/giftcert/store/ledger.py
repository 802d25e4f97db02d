"""The value ledger: signed entries per certificate, append-only. A debit names its request; the
unique (certificate, request) constraint makes a second debit for one request impossible.

A certificate's balance is the sum of its entries of the kinds that move value (`BALANCE_KINDS`:
issued +, redeemed -, and with v2's holds and refunds captured -, refunded +); what is available
is the balance plus the entries that reserve value (`HOLD_KINDS`: hold -, released +, hold_expired
+), so a hold's own entries add up to zero once it is released, expired or captured (its capture
writes `released` for what it held and `captured` for what it applied). The certificate's
`balance_minor` column keeps the balance; `discrepancies` checks it against the entries.

A refund's entry (`refunded`, +) names the redemption it gives back (`redemption_id`: the request_id
of the `redeemed` or `captured` entry that applied the value), so what was refunded of a redemption
is the sum of the entries naming it; read under its certificate's lock, it cannot change before the
reading transaction ends (ledger/refund.py)."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.money import Amount
from giftcert.store.bulk import Writes, columns, insert_rows, rows_of
from giftcert.store.schema import ledger_entries


class EntryKind(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    HOLD = "hold"
    RELEASED = "released"
    HOLD_EXPIRED = "hold_expired"


BALANCE_KINDS = frozenset({EntryKind.ISSUED, EntryKind.REDEEMED, EntryKind.CAPTURED, EntryKind.REFUNDED})
HOLD_KINDS = frozenset({EntryKind.HOLD, EntryKind.RELEASED, EntryKind.HOLD_EXPIRED})
APPLIED_KINDS = frozenset({EntryKind.REDEEMED, EntryKind.CAPTURED, EntryKind.REFUNDED})
"""The kinds that say what an order received (negated: a redemption's debit is what it applied)."""


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    certificate_id: UUID
    workspace_id: str
    kind: EntryKind
    amount: Amount
    """Signed: issues add value, debits take it."""
    request_id: str
    occurred_at: datetime
    order_id: str | None = None
    redemption_id: str | None = None
    """A refund's: the request_id of the redemption it gives back."""


@dataclass(frozen=True, slots=True)
class Redemption:
    """What a redeem or a capture applied to an order (a positive amount), from which certificate."""

    certificate_id: UUID
    applied: Amount


REDEMPTION_KINDS = frozenset({EntryKind.REDEEMED, EntryKind.CAPTURED})
"""The entries that apply value to an order: what a refund names (by their request_id)."""

_COLUMNS = (
    "certificate_id", "workspace_id", "kind", "amount_minor", "currency", "request_id", "order_id", "occurred_at",
    "redemption_id",
)
_RECORD = insert_rows(ledger_entries, _COLUMNS)
_KINDS = "CAST(:kinds AS text[])"
_APPLIED_TO_ORDERS = text(
    "SELECT workspace_id, order_id, -sum(amount_minor) FROM ledger_entries "  # noqa: S608 - names from the schema
    f"WHERE kind = ANY({_KINDS}) AND (workspace_id, order_id) IN "
    f"(SELECT * FROM {rows_of(ledger_entries, ('workspace_id', 'order_id'))}) GROUP BY workspace_id, order_id"
)
_REDEMPTIONS = text(
    "SELECT e.workspace_id, e.order_id, e.request_id, e.certificate_id, -e.amount_minor, e.currency"  # noqa: S608
    f" FROM ledger_entries AS e JOIN {rows_of(ledger_entries, ('workspace_id', 'order_id', 'request_id'))}"
    " ON (e.workspace_id, e.order_id, e.request_id) = (v.workspace_id, v.order_id, v.request_id)"
    f" WHERE e.kind = ANY({_KINDS})"
)
_REFUNDED = text(
    "SELECT e.certificate_id, e.redemption_id, sum(e.amount_minor) FROM ledger_entries AS e"  # noqa: S608
    f" JOIN {rows_of(ledger_entries, ('certificate_id', 'redemption_id'))}"
    " ON (e.certificate_id, e.redemption_id) = (v.certificate_id, v.redemption_id)"
    " WHERE e.kind = :refunded GROUP BY e.certificate_id, e.redemption_id"
)
_DISCREPANCIES = text(
    "SELECT c.id, c.workspace_id, c.kept, coalesce(e.derived, 0) AS derived FROM ("  # noqa: S608
    " SELECT id, workspace_id, coalesce(balance_minor, CASE WHEN status IN ('pending', 'redeemed') THEN 0"
    " ELSE amount_minor END) AS kept FROM certificates"
    " WHERE CAST(:workspace AS text) IS NULL OR workspace_id = CAST(:workspace AS text)) AS c"
    " LEFT JOIN (SELECT certificate_id, sum(amount_minor) AS derived FROM ledger_entries"
    f" WHERE kind = ANY({_KINDS}) GROUP BY certificate_id) AS e ON e.certificate_id = c.id"
    " WHERE c.kept <> coalesce(e.derived, 0) ORDER BY c.workspace_id, c.id"
)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A certificate whose kept balance is not the sum of its ledger entries."""

    certificate_id: UUID
    workspace_id: str
    kept_minor: int
    derived_minor: int


class LedgerRepository:
    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._connection = connection
        self._writes = writes or Writes(connection)

    async def record(self, *entries: LedgerEntry) -> None:
        if entries:
            rows = (
                (e.certificate_id, e.workspace_id, e.kind.value, e.amount.minor, e.amount.currency, e.request_id,
                 e.order_id, e.occurred_at, e.redemption_id)
                for e in entries
            )
            await self._writes.execute(_RECORD, columns(rows, _COLUMNS))

    async def balance(self, certificate_id: UUID) -> int:
        query = select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
            ledger_entries.c.certificate_id == certificate_id,
            ledger_entries.c.kind.in_([k.value for k in BALANCE_KINDS]),
        )
        return int((await self._connection.execute(query)).scalar_one())

    async def of_certificate(self, certificate_id: UUID) -> list[LedgerEntry]:
        """The certificate's entries in the order they were written: its value history."""
        query = select(ledger_entries).where(ledger_entries.c.certificate_id == certificate_id).order_by(
            ledger_entries.c.id
        )
        return [
            LedgerEntry(
                certificate_id=r["certificate_id"], workspace_id=r["workspace_id"], kind=EntryKind(r["kind"]),
                amount=Amount(r["amount_minor"], r["currency"]), request_id=r["request_id"],
                occurred_at=r["occurred_at"], order_id=r["order_id"],
            )
            for r in (await self._connection.execute(query)).mappings()
        ]

    async def order_of_redemption(self, certificate_id: UUID) -> str | None:
        """The order of its latest redemption (a partly redeemed certificate may pay several)."""
        query = (
            select(ledger_entries.c.order_id)
            .where(ledger_entries.c.certificate_id == certificate_id, ledger_entries.c.kind == EntryKind.REDEEMED.value)
            .order_by(ledger_entries.c.id.desc())
            .limit(1)
        )
        return (await self._connection.execute(query)).scalar_one_or_none()

    async def applied_to_orders(self, orders: Collection[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """What each (workspace, order) has received from certificates, net of refunds (absent: none).
        Read under the orders' locks (redemption_failures.lock_and_count), so it cannot change
        before the transaction ends."""
        if not orders:
            return {}
        parameters = columns(orders, ("workspace_id", "order_id")) | {"kinds": [k.value for k in APPLIED_KINDS]}
        rows = await self._connection.execute(_APPLIED_TO_ORDERS, parameters)
        return {(w, o): int(applied) for w, o, applied in rows}

    async def applied_entries_of_order(self, workspace_id: str, order_id: str) -> list[LedgerEntry]:
        """The entries that applied value to the order or gave it back (`APPLIED_KINDS`), oldest first."""
        query = (
            select(ledger_entries)
            .where(
                ledger_entries.c.workspace_id == workspace_id, ledger_entries.c.order_id == order_id,
                ledger_entries.c.kind.in_([k.value for k in APPLIED_KINDS]),
            )
            .order_by(ledger_entries.c.id)
        )
        return [
            LedgerEntry(
                r.certificate_id, r.workspace_id, EntryKind(r.kind), Amount(r.amount_minor, r.currency), r.request_id,
                r.occurred_at, order_id=r.order_id,
            )
            for r in await self._connection.execute(query)
        ]

    async def orders_paid_by(self, certificate_id: UUID) -> list[str]:
        """Every order the certificate applied value to (a redemption or a capture), first paid first."""
        first = func.min(ledger_entries.c.id)
        query = (
            select(ledger_entries.c.order_id)
            .where(
                ledger_entries.c.certificate_id == certificate_id, ledger_entries.c.order_id.is_not(None),
                ledger_entries.c.kind.in_([EntryKind.REDEEMED.value, EntryKind.CAPTURED.value]),
            )
            .group_by(ledger_entries.c.order_id)
            .order_by(first)
        )
        return [order_id for (order_id,) in await self._connection.execute(query)]
    async def redemptions(self, wanted: Collection[tuple[str, str, str]]) -> dict[tuple[str, str, str], Redemption]:
        """The redemptions (redeems and captures) of these (workspace, order, request_id): what each
        applied and from which certificate. Entries are never changed, so this needs no lock."""
        if not wanted:
            return {}
        names = ("workspace_id", "order_id", "request_id")
        parameters = columns(wanted, names) | {"kinds": [k.value for k in REDEMPTION_KINDS]}
        rows = await self._connection.execute(_REDEMPTIONS, parameters)
        return {(w, o, r): Redemption(c, Amount(int(applied), currency)) for w, o, r, c, applied, currency in rows}

    async def refunded(self, redemptions: Collection[tuple[UUID, str]]) -> dict[tuple[UUID, str], int]:
        """What was refunded of each (certificate, redemption id) so far (absent: nothing). Read it
        with the certificate locked: refunds of a redemption credit its certificate, whose lock
        they all take first."""
        if not redemptions:
            return {}
        parameters = columns(redemptions, ("certificate_id", "redemption_id")) | {"refunded": EntryKind.REFUNDED.value}
        rows = await self._connection.execute(_REFUNDED, parameters)
        return {(c, r): int(total) for c, r, total in rows}

    async def discrepancies(self, workspace_id: str | None = None) -> list[Discrepancy]:
        """Every certificate (of the workspace, or of all) whose kept balance differs from the sum of
        its entries."""
        parameters = {"kinds": [k.value for k in BALANCE_KINDS], "workspace": workspace_id}
        rows = await self._connection.execute(_DISCREPANCIES, parameters)
        return [Discrepancy(c, w, int(kept), int(derived)) for c, w, kept, derived in rows]
