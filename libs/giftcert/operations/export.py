"""A workspace's certificates as CSV (RFC 4180, UTF-8, a header row): exactly what a
`CertificateSearch` selects, for spreadsheets (the month-end liability, a reconciliation with the
payment system, what expires next month).

- Never a code: a code is a bearer secret, so a row holds `code_last4` and nothing else of it.
- Streamed: the selection is read a keyset page at a time (search.py) and each page leaves as one
  chunk of text, so a million certificates take the memory of one page.
- One snapshot: every page is read in one REPEATABLE READ transaction, so the balances of an
  export add up to the liability at one moment, whatever changes while it streams.
- No formula: a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return (names,
  emails, anything customers or other systems wrote) is prefixed with a single quote, as OWASP
  recommends against spreadsheet formula injection.
"""

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.certificate import Certificate
from giftcert.operations.search import MAX_PAGE_SIZE, CertificateSearch, search_certificates

COLUMNS = (
    "certificate_id", "kind", "status", "code_last4", "currency", "value_minor", "balance_minor",
    "created_at", "activated_at", "expires_at", "redeemed_at", "voided_at", "expired_at",
    "channel", "segment", "purchaser_name", "purchaser_email", "recipient_name", "recipient_email", "payment_id",
)
"""The columns, in this order. Amounts are integer minor units of `currency`; times ISO 8601 UTC
(`2026-12-07T06:54:21Z`); an empty cell is a value the certificate does not have (yet)."""
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NOT_IN_A_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")
PAGE_SIZE = MAX_PAGE_SIZE
"""Certificates read a page: what an export holds in memory at once."""


def neutralised(text: str | None) -> str:
    """Text a spreadsheet shows as text: a cell that could start a formula gets a leading `'`."""
    if text is None:
        return ""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def export_file_name(workspace_id: str, now: datetime) -> str:
    """`certificates-<workspace>-<UTC date>.csv`; a character of the workspace id that a header or a
    file system might mind is written `_`."""
    return f"certificates-{_NOT_IN_A_FILE_NAME.sub('_', workspace_id)}-{now.astimezone(UTC).date().isoformat()}.csv"


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def row_of(certificate: Certificate) -> tuple[str | int, ...]:
    """The certificate's cells in the order of `COLUMNS`."""
    c = certificate
    return (
        str(c.id), c.kind, c.status.value, c.code_last4, c.amount.currency, c.amount.minor, c.balance_minor,
        _time(c.created_at), _time(c.activated_at), _time(c.expires_at), _time(c.redeemed_at),
        _time(c.voided_at), _time(c.expired_at),
        *map(neutralised, (c.channel, c.segment, c.purchaser_name, c.purchaser_email, c.recipient_name,
                           c.recipient_email, c.payment_id)),
    )


async def export_certificates(engine: AsyncEngine, search: CertificateSearch) -> AsyncIterator[str]:
    """The CSV text of the search's whole selection (its own `limit` and `after` are not used),
    newest first: the header, then one chunk a page of `PAGE_SIZE` certificates."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield text.getvalue()
    page_search = replace(search, limit=PAGE_SIZE, after=None)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            while True:
                page = await search_certificates(connection, page_search)
                text.seek(0)
                text.truncate()
                writer.writerows(map(row_of, page.certificates))
                if page.certificates:
                    yield text.getvalue()
                if page.next_cursor is None:
                    return
                page_search = replace(page_search, after=page.next_cursor)
