"""Set-based statements for batches: many rows in one statement with one parameter per column (an
array), so PostgreSQL does the looping and a batch costs one round trip whatever its size.

`unnest` turns the arrays back into rows. Arrays of equal length are zipped; every column is cast
to its type, so asyncpg encodes each array in one go. Rows come out of `unnest` in array order, so
identity columns number them in that order. JSONB travels as text and is cast row by row."""

import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Column, String, Table, TextClause, text
from sqlalchemy.dialects.postgresql import JSONB, dialect
from sqlalchemy.ext.asyncio import AsyncConnection

_DIALECT = dialect()  # type: ignore[no-untyped-call]


def _sql_type(column: Column[Any]) -> str:
    """The array's element type: text for strings (a cast to varchar(n) would cut a longer value
    silently; the column's own length check then refuses it instead) and for JSONB."""
    if isinstance(column.type, String | JSONB):
        return "text"
    return str(column.type.compile(dialect=_DIALECT))


def rows_of(table: Table, names: Sequence[str], alias: str = "v") -> str:
    """`unnest(CAST(:name AS type[]), ...) AS alias(name, ...)`: the arrays bound as :name, as rows."""
    arrays = ", ".join(f"CAST(:{name} AS {_sql_type(table.c[name])}[])" for name in names)
    return f"unnest({arrays}) AS {alias}({', '.join(names)})"


def value_of(table: Table, name: str, alias: str = "v") -> str:
    """A column of `rows_of`, as its own type (JSONB is cast back from text)."""
    return f"CAST({alias}.{name} AS jsonb)" if isinstance(table.c[name].type, JSONB) else f"{alias}.{name}"


@cache
def insert_rows(table: Table, names: tuple[str, ...], suffix: str = "") -> TextClause:
    """`INSERT INTO table (names) SELECT ... FROM unnest(...)`, then `suffix` (ON CONFLICT, RETURNING)."""
    values = ", ".join(value_of(table, n) for n in names)
    return text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {values} FROM {rows_of(table, names)} {suffix}")  # noqa: S608 - names from the schema; values are bound


def columns(rows: Iterable[Sequence[Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    """Rows (tuples in the order of `names`) as one list per column: the arrays to bind. A row of
    another length than `names` is refused (ValueError)."""
    rows = list(rows)
    if not rows:
        return {name: [] for name in names}
    # transposed by zip, in C (docs/benchmarks.md, "How it was made faster")
    return dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))


_BIND = re.compile(r"(?<![:\w]):(\w+)")


class Writes:
    """How repositories write: at once, or, once `hold()` was called, held back and sent together
    as one statement (`WITH h0 AS (...), h1 AS (...) SELECT 1`) when the unit of work flushes them,
    just before it commits: one round trip for all the writes of a batch. Only for handlers that
    read nothing they wrote before the commit (a held write is not visible until flushed) and that
    write each row at most once: of two held changes to one row, PostgreSQL applies only one, and
    which is not defined (data-modifying statements in `WITH` see the same snapshot)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._held: list[tuple[TextClause, dict[str, Any]]] | None = None

    def hold(self) -> None:
        self._held = self._held if self._held is not None else []

    async def execute(self, statement: TextClause, parameters: dict[str, Any]) -> None:
        if self._held is None:
            await self._connection.execute(statement, parameters)
        else:
            self._held.append((statement, parameters))

    async def flush(self) -> None:
        held, self._held = self._held or [], None
        if len(held) == 1:
            await self._connection.execute(*held[0])
        elif held:
            parts: list[str] = []
            parameters: dict[str, Any] = {}
            for n, (statement, values) in enumerate(held):
                renamed = _BIND.sub(f":h{n}_\\1", statement.text)
                parts.append(f"h{n} AS ({renamed})")
                parameters |= {f"h{n}_{name}": value for name, value in values.items()}
            await self._connection.execute(text(f"WITH {', '.join(parts)} SELECT 1"), parameters)
