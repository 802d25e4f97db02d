"""Searching a workspace's certificates: by code (any spelling), purchaser or recipient email,
status, and created or expiry date ranges; newest first, a page at a time.

Pages are keyset-paginated on (created_at, id), both descending: a stable order that does not skip
or repeat rows when certificates are added between pages, and costs the same on page 1 and page
1,000 (the `certificates_created_idx` index serves it). The cursor is opaque to callers."""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.certificate import Certificate, Kind, Status
from giftcert.domain.codes import normalize_code
from giftcert.store.certificates import certificate_from_row
from giftcert.store.schema import certificates

MAX_PAGE_SIZE = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""PostgreSQL refuses NUL in text outright; no control character can be part of an email or a code."""


class InvalidCursorError(ValueError):
    def __init__(self) -> None:
        super().__init__("the cursor is not one this service gave out")


@dataclass(frozen=True, slots=True)
class CertificateSearch:
    workspace_id: str
    code: str | None = None
    purchaser_email: str | None = None
    recipient_email: str | None = None
    status: Status | None = None
    kind: Kind | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    expires_from: datetime | None = None
    expires_to: datetime | None = None
    limit: int = 50
    after: str | None = None
    """The cursor of the previous page's last certificate."""

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise ValueError(f"a page holds 1 to {MAX_PAGE_SIZE} certificates")
        texts = (self.code, self.purchaser_email, self.recipient_email, self.after)
        if any(text is not None and _CONTROL.search(text) for text in texts):
            raise ValueError("search text must not contain control characters")


@dataclass(frozen=True, slots=True)
class SearchPage:
    certificates: list[Certificate]
    next_cursor: str | None


def encode_cursor(certificate: Certificate) -> str:
    raw = json.dumps([certificate.created_at.isoformat(), str(certificate.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, certificate_id = json.loads(raw)
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise InvalidCursorError
        return moment, UUID(certificate_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise InvalidCursorError from error


def _conditions(search: CertificateSearch) -> list[ColumnElement[bool]]:
    c = certificates.c
    where: list[ColumnElement[bool]] = [c.workspace_id == search.workspace_id]
    if search.code is not None:
        # A text that cannot be a code matches nothing, rather than everything.
        where.append(c.code == (normalize_code(search.code) or ""))
    if search.purchaser_email is not None:
        where.append(func.lower(c.purchaser_email) == search.purchaser_email.lower())
    if search.recipient_email is not None:
        where.append(func.lower(c.recipient_email) == search.recipient_email.lower())
    if search.status is not None:
        where.append(c.status == search.status.value)
    if search.kind is not None:
        where.append(c.kind == search.kind)
    bounds = (
        (c.created_at, search.created_from, search.created_to),
        (c.expires_at, search.expires_from, search.expires_to),
    )
    for column, lower, upper in bounds:
        if lower is not None:
            where.append(column >= lower)
        if upper is not None:
            where.append(column < upper)
    if search.after is not None:
        created_at, certificate_id = decode_cursor(search.after)
        where.append(or_(c.created_at < created_at, and_(c.created_at == created_at, c.id < certificate_id)))
    return where


async def search_certificates(connection: AsyncConnection, search: CertificateSearch) -> SearchPage:
    query = (
        select(certificates)
        .where(*_conditions(search))
        .order_by(certificates.c.created_at.desc(), certificates.c.id.desc())
        .limit(search.limit + 1)
    )
    found = [certificate_from_row(row) for row in (await connection.execute(query)).mappings()]
    page, more = found[: search.limit], len(found) > search.limit
    return SearchPage(page, encode_cursor(page[-1]) if more else None)
