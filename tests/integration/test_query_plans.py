"""The schema's indexes serve the searches, the expiry scan and the relay's checkout lane: on a
seeded table of 50,000 certificates (and an outbox of 20,000 events), the statements the code
really runs (captured as they are sent) are planned with the index meant for them, never a
sequential scan."""

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from giftcert.domain.certificate import Status
from giftcert.messaging.outbox import Lane
from giftcert.operations.search import CertificateSearch, search_certificates
from giftcert.store.certificates import CertificateRepository
from giftcert.store.outbox import OutboxReader
from tests.databases import migrated_database_url

pytestmark = pytest.mark.integration

SEEDED = 50_000
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SEED = text("""
    INSERT INTO certificates (id, workspace_id, status, amount_minor, currency, code, channel, purchaser_name,
        purchaser_email, recipient_name, recipient_email, expiry_days, created_at, activated_at, expires_at)
    SELECT md5('c' || n)::uuid, 'ws-' || (n % 20),
           (ARRAY['pending', 'active', 'redeemed', 'voided', 'expired'])[1 + n % 5],
           5000, 'EUR', upper(substr(md5('code' || n), 1, 12)), 'portal',
           'Buyer ' || n, 'buyer' || n || '@example.com', 'Friend ' || n, 'friend' || n || '@example.com', 365,
           CAST(:now AS timestamptz) - make_interval(mins => n), CAST(:now AS timestamptz) - make_interval(mins => n),
           CAST(:now AS timestamptz) + make_interval(days => n % 400)
    FROM generate_series(1, CAST(:count AS integer)) AS n
""")
OUTBOX_SEEDED = 20_000
SEED_OUTBOX = text("""
    INSERT INTO outbox (topic, key, headers, payload, created_at)
    SELECT CASE WHEN n % 1000 = 0 THEN 'certificate-redeemed' ELSE 'certificate-expired' END,
           md5('c' || n), '{}', '\\x7b7d', CAST(:now AS timestamptz)
    FROM generate_series(1, CAST(:count AS integer)) AS n
""")


@pytest.fixture(scope="module")
def plans_database_url(postgres_server_url: str) -> str:
    return migrated_database_url(postgres_server_url, "plans")


@pytest.fixture(scope="module")
async def engine(plans_database_url: str) -> Any:
    engine = create_async_engine(plans_database_url)
    async with engine.begin() as connection:
        await connection.execute(SEED, {"now": NOW, "count": SEEDED})
        await connection.execute(SEED_OUTBOX, {"now": NOW, "count": OUTBOX_SEEDED})
        await connection.execute(text("ANALYZE certificates"))
        await connection.execute(text("ANALYZE outbox"))
    yield engine
    await engine.dispose()


async def _plan_of(
    engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[object]], table: str = "certificates",
    *, generic: bool = False,
) -> str:
    """The plan of the first statement on `table` that `work` sends. `generic`: the plan made without
    the parameters' values, as PostgreSQL caches one for a statement prepared and run often (asyncpg
    prepares every statement): a partial index serves it only if the statement implies the index's
    condition whatever the parameters."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if f"FROM {table}" in statement and not statement.startswith("EXPLAIN"):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as connection:
            await work(connection)
            await connection.rollback()
            statement, parameters = sent[0]
            if generic:  # EXPLAIN plans a statement with its parameters' values; EXPLAIN EXECUTE may not
                await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
                await connection.exec_driver_sql(f"PREPARE planned AS {statement}")
                statement, parameters = f"EXECUTE planned({', '.join(map(_literal, parameters))})", ()
            rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            if generic:
                await connection.exec_driver_sql("DEALLOCATE planned")  # the pool keeps the session
            return "\n".join(str(row[0]) for row in rows)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)


def _literal(value: object) -> str:
    """A parameter of the statements planned here as SQL text: numbers as they are, else quoted."""
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _uses(plan: str, index: str) -> bool:
    return re.search(rf"Index (Only )?Scan.* using {index}\b|Bitmap Index Scan on {index}\b", plan) is not None


async def _search(engine: AsyncEngine, **filters: Any) -> str:
    return await _plan_of(engine, lambda c: search_certificates(c, CertificateSearch(workspace_id="ws-7", **filters)))


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"code": "abcd-efgh-jkmn"}, "certificates_workspace_code_key"),
        ({"purchaser_email": "Buyer77@example.com"}, "certificates_purchaser_email_idx"),
        ({"recipient_email": "friend77@example.com"}, "certificates_recipient_email_idx"),
        ({}, "certificates_created_idx"),
        ({"status": Status.ACTIVE}, "certificates_created_idx|certificates_status_expiry_idx"),
    ],
    ids=["code", "purchaser_email", "recipient_email", "newest_first", "by_status"],
)
async def test_each_search_is_served_by_its_index(engine: AsyncEngine, filters: dict[str, Any], index: str) -> None:
    plan = await _search(engine, **filters)
    assert "Seq Scan on certificates" not in plan, plan
    assert _uses(plan, f"({index})"), plan


async def test_a_later_page_is_served_by_the_created_index_too(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        first = await search_certificates(connection, CertificateSearch(workspace_id="ws-7", limit=50))
    plan = await _search(engine, after=first.next_cursor)
    assert "Seq Scan on certificates" not in plan, plan
    assert _uses(plan, "certificates_created_idx"), plan


async def test_the_expiry_scan_is_served_by_the_status_and_expiry_index_and_sorts_nothing(
    engine: AsyncEngine,
) -> None:
    """Without a sort, an expiry batch reads no more rows than it takes, however many share an expiry."""
    plan = await _plan_of(engine, lambda c: CertificateRepository(c).lock_expired("ws-7", NOW, 1000))
    assert "Seq Scan on certificates" not in plan, plan
    assert _uses(plan, "certificates_status_expiry_idx"), plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("skip_locked", [True, False], ids=["bulk", "rows_skipped"])
async def test_the_reminder_scan_is_served_by_the_partial_index_of_certificates_not_yet_reminded(
    engine: AsyncEngine, skip_locked: bool
) -> None:
    """The index holds no reminded certificate, so a tick never reads the ones an earlier tick reminded."""
    plan = await _plan_of(
        engine,
        lambda c: CertificateRepository(c).lock_expiring_soon(
            "ws-7", NOW, NOW + timedelta(days=30), 1000, skip_locked=skip_locked
        ),
        generic=True,
    )
    assert "Seq Scan on certificates" not in plan, plan
    assert _uses(plan, "certificates_reminder_due_idx"), plan


async def test_the_relays_checkout_lane_is_served_by_its_partial_index(engine: AsyncEngine) -> None:
    plan = await _plan_of(
        engine, lambda c: OutboxReader(c).claim(500, Lane.CHECKOUT_REPLIES), table="outbox", generic=True
    )
    assert "Seq Scan on outbox" not in plan, plan
    assert _uses(plan, "outbox_checkout_replies_idx"), plan
