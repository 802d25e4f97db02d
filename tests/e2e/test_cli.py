"""The operator commands as a black box: `giftcert db upgrade`, `giftcert workspace set` and
`giftcert certificates show`, configured only by GIFTCERT_DATABASE_URL, on a database of their own."""

import json
import os
import subprocess
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import create_certificate
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.inbound import PaymentCompleted, PurchaseRequested
from giftcert_services.integrator import requests
from tests.databases import fresh_database_url
from tests.e2e.conftest import GIFTCERT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture
def database_url(postgres_server_url: str) -> str:
    """Empty: `giftcert db upgrade` builds the schema."""
    return fresh_database_url(postgres_server_url, f"giftcert_cli_{uuid4().hex[:10]}")


class _Stopped:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def giftcert(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTCERT_")} | {
        "GIFTCERT_DATABASE_URL": database_url, "COLUMNS": "200",
    }
    return subprocess.run([GIFTCERT, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


async def _tables(database_url: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def test_db_upgrade_builds_the_schema_and_is_safe_to_run_again(database_url: str) -> None:
    for _ in range(2):
        done = giftcert(database_url, "db", "upgrade")
        assert done.returncode == 0, done.stderr
    assert {"certificates", "inbox", "outbox", "ledger_entries", "documents"} <= await _tables(database_url)


def test_workspace_set_creates_with_defaults_and_updates_only_what_is_given(database_url: str) -> None:
    assert giftcert(database_url, "db", "upgrade").returncode == 0
    created = giftcert(database_url, "workspace", "set", "acme-tours", "--portal", "--currency", "CHF")
    assert created.returncode == 0, created.stderr
    assert "portal_enabled: True" in created.stdout
    assert "currency: CHF" in created.stdout
    assert "min_minor: 1000" in created.stdout  # the defaults for what was not given
    assert "max_minor: 100000" in created.stdout
    assert "expiry_days: 365" in created.stdout
    assert "reminder_days: 30" in created.stdout

    updated = giftcert(database_url, "workspace", "set", "acme-tours", "--no-portal", "--expiry-days", "90")
    assert updated.returncode == 0, updated.stderr
    assert "portal_enabled: False" in updated.stdout
    assert "expiry_days: 90" in updated.stdout
    assert "currency: CHF" in updated.stdout  # kept


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--currency", "ABC"], "ABC"),
        (["--min-minor", "5000", "--max-minor", "100"], "smallest amount"),
        (["--expiry-days", "0"], "expiry-days"),
    ],
)
def test_workspace_set_refuses_bad_values_with_a_clear_message(
    database_url: str, args: list[str], complaint: str
) -> None:
    assert giftcert(database_url, "db", "upgrade").returncode == 0
    refused = giftcert(database_url, "workspace", "set", "acme-tours", *args)
    assert refused.returncode == 2
    assert complaint in refused.stderr
    assert "Traceback" not in refused.stderr


async def test_certificates_show_prints_status_amount_dates_last4_and_the_activity_log(database_url: str) -> None:
    assert giftcert(database_url, "db", "upgrade").returncode == 0
    assert giftcert(database_url, "workspace", "set", "acme-tours", "--portal").returncode == 0
    engine = create_async_engine(database_url)
    new_uow = UnitOfWorkFactory(engine, event_source="urn:test")
    clock = _Stopped(datetime(2026, 11, 23, 10, tzinfo=UTC))
    purchase = PurchaseRequested.model_validate(requests.purchase("acme-tours"))
    try:
        await create_certificate(purchase, new_uow(), clock)
        await activate_certificate(
            PaymentCompleted.model_validate(requests.payment("acme-tours", str(purchase.certificate_id))),
            new_uow(), clock,
        )
    finally:
        await engine.dispose()
    cid = str(purchase.certificate_id)

    shown = giftcert(database_url, "certificates", "show", cid, "--workspace", "acme-tours", "--json")
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert found["status"] == "active"
    assert found["amount"] == {"minor": 5000, "currency": "EUR"}
    assert len(found["code_last4"]) == 4
    assert found["activated_at"].startswith("2026-11-23T10:00")
    assert found["expires_at"].startswith("2027-11-23T10:00")
    assert [entry["kind"] for entry in found["activity"]] == [
        "created", "purchased_from_portal", "purchased", "activated_from_portal",
    ]

    human = giftcert(database_url, "certificates", "show", cid, "--workspace", "acme-tours")
    assert human.returncode == 0
    assert "status: active" in human.stdout
    assert "EUR 50.00" in human.stdout
    missing = giftcert(database_url, "certificates", "show", cid, "--workspace", "another-workspace")
    assert missing.returncode == 1
    assert "no certificate" in missing.stderr
