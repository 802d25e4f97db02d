"""Certificates written straight into the store (COPY), not through the pipeline: the state a
scenario starts from. Codes are drawn from the codes' alphabet by a seeded generator, unique."""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from giftcert.domain.codes import ALPHABET, LENGTH

COLUMNS = (
    "id", "workspace_id", "status", "amount_minor", "currency", "code", "channel", "purchaser_name",
    "purchaser_email", "recipient_name", "recipient_email", "message", "expiry_days", "payment_id", "created_at",
    "activated_at", "expires_at",
)
AMOUNT_MINOR = 5000
COPY_CHUNK = 100_000


@dataclass(frozen=True)
class Seeded:
    ids: list[UUID]
    codes: list[str]
    emails: list[str]


def unique_codes(count: int, seed: int) -> list[str]:
    draw = random.Random(seed)
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("".join(draw.choices(ALPHABET, k=LENGTH)))
    ordered = sorted(codes)
    draw.shuffle(ordered)
    return ordered


async def seed_certificates(
    dsn: str, workspace: str, count: int, *, status: str = "active", seed: int = 1,
    expires_in: timedelta = timedelta(days=365), created_before: timedelta = timedelta(days=30),
) -> Seeded:
    """`count` certificates of one workspace; active ones activated a moment ago and expiring after
    `expires_in`; each purchaser and recipient with an email of its own. Rows are made and copied a
    chunk at a time, so a million of them never sit in memory at once. Then the table is vacuumed
    and analyzed, as a store in service has been: otherwise autovacuum, woken by the rows just
    copied, runs through the first figure measured on them."""
    now = datetime.now(UTC)
    active = status != "pending"
    seeded = Seeded([uuid4() for _ in range(count)], unique_codes(count, seed), [])
    seeded.emails.extend(f"buyer-{seed}-{n}@example.com" for n in range(count))
    connection = await asyncpg.connect(dsn)
    try:
        for start in range(0, count, COPY_CHUNK):
            rows = [
                (
                    seeded.ids[n], workspace, status, AMOUNT_MINOR, "EUR", seeded.codes[n], "portal", "Pat Purchaser",
                    seeded.emails[n], "Robin Recipient", f"robin-{seed}-{n}@example.com", "Happy travels!", 365,
                    f"pay-{seeded.ids[n]}" if active else None, now - created_before,
                    now if active else None, now + expires_in if active else None,
                )
                for n in range(start, min(count, start + COPY_CHUNK))
            ]
            await connection.copy_records_to_table("certificates", records=rows, columns=COLUMNS)
        await connection.execute("VACUUM (ANALYZE) certificates")
    finally:
        await connection.close()
    return seeded


async def count_statuses(dsn: str, workspace: str) -> dict[str, int]:
    connection = await asyncpg.connect(dsn)
    try:
        rows: Sequence[asyncpg.Record] = await connection.fetch(
            "SELECT status, count(*) FROM certificates WHERE workspace_id = $1 GROUP BY status", workspace
        )
    finally:
        await connection.close()
    return {row["status"]: row["count"] for row in rows}
