"""`giftcert report sales` and `giftcert report expiring` through Typer's runner, configured only by
GIFTCERT_DATABASE_URL, on the session's database with the certificates of tests/integration/test_reports.py.

The tests are plain functions: each command runs its own event loop (asyncio.run)."""

import io
import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.store.workspaces import WorkspaceRepository
from giftcert_services.cli.main import app
from tests.integration.test_report_balances import ISSUED, opened_shop
from tests.integration.test_reports import certificate, hand_computed_fixture, insert

pytestmark = pytest.mark.integration

REMINDER_DAYS = 20


@dataclass(frozen=True)
class Shop:
    workspace_id: str
    database_url: str
    expiring_code: str
    expiring_beyond_reminder_code: str

    def giftcert(self, *args: str) -> Result:
        env = {"GIFTCERT_DATABASE_URL": self.database_url, "COLUMNS": "200"}
        return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
async def shop(db: AsyncEngine, database_url: str, workspace: str) -> Shop:
    """The hand-computed sales, a named workspace reminding 20 days ahead, and two certificates about to
    expire (in 5 and in 25 days from the real now: the commands read the system clock)."""
    now = datetime.now(UTC)

    def expiring(label: str, minor: int, days: int) -> Certificate:
        made = certificate(workspace, label, Status.ACTIVE, minor, created="2024-06-01T00:00",
                           activated="2024-06-01T00:00")
        return replace(made, expires_at=now + timedelta(days=days))

    soon, later = expiring("SOON", 4200, 5), expiring("LATR", 4300, 25)
    await insert(db, [*hand_computed_fixture(workspace), soon, later])
    async with db.begin() as connection:
        settings = WorkspaceSettings(workspace_id=workspace, name="Alpine Tours", reminder_days=REMINDER_DAYS)
        await WorkspaceRepository(connection).put(settings, now)
    return Shop(workspace, database_url, soon.code, later.code)


def test_sales_json_has_the_hand_computed_figures(shop: Shop) -> None:
    done = shop.giftcert("report", "sales", "--workspace", shop.workspace_id,
                         "--from", "2024-12-01", "--to", "2025-03-31", "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout)
    assert figures["currency"] == "EUR"  # the workspace's
    assert figures["revenue_by_month"] == [
        {"month": "2024-12", "certificates": 0, "revenue_minor": 0},
        {"month": "2025-01", "certificates": 3, "revenue_minor": 11500},
        {"month": "2025-02", "certificates": 2, "revenue_minor": 12500},
        {"month": "2025-03", "certificates": 1, "revenue_minor": 5000},
    ]
    assert figures["certificates_by_status"] == {"pending": 1, "active": 3, "redeemed": 3, "voided": 1, "expired": 1}
    assert figures["popular_amounts"][0] == {"amount_minor": 5000, "certificates": 3}
    assert figures["funnel"] == {"created": 9, "activated": 8, "redeemed": 3}
    assert figures["redemption_rate"] == pytest.approx(3 / 7)
    assert figures["average_days_to_redemption"] == pytest.approx(35.5 / 3)
    assert figures["outstanding_liability_minor"] == 20000 + 4200 + 4300  # B, H, I and the two expiring ones
    assert figures["breakage_minor"] == 3500


def test_sales_as_text_is_aligned_and_formats_money(shop: Shop) -> None:
    done = shop.giftcert("report", "sales", "--workspace", shop.workspace_id, "--from", "2024-12-01",
                         "--to", "2025-03-31")
    assert done.exit_code == 0, done.output
    assert "Sales of Alpine Tours" in done.stdout
    lines = done.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("Revenue per month")))
    months = lines[header + 1: header + 5]
    assert [line.split() for line in months] == [
        ["2024-12", "0", "EUR", "0.00"], ["2025-01", "3", "EUR", "115.00"],
        ["2025-02", "2", "EUR", "125.00"], ["2025-03", "1", "EUR", "50.00"],
    ]
    assert len({len(line) for line in [lines[header], *months]}) == 1  # right-aligned columns
    assert "EUR 35.00" in done.stdout  # breakage
    assert "42.9%" in done.stdout  # 3 of 7 redeemed


def test_sales_pdf_writes_a_report_with_charts(shop: Shop, tmp_path: Path) -> None:
    target = tmp_path / "sales.pdf"
    done = shop.giftcert("report", "sales", "--workspace", shop.workspace_id, "--from", "2024-12-01",
                         "--to", "2025-03-31", "--pdf", str(target))
    assert done.exit_code == 0, done.output
    text = PdfReader(io.BytesIO(target.read_bytes())).pages[0].extract_text()
    assert "Alpine Tours" in text
    assert "Revenue per month" in text
    assert "Jan 2025" in text


def test_sales_defaults_to_the_last_twelve_months(shop: Shop) -> None:
    done = shop.giftcert("report", "sales", "--workspace", shop.workspace_id, "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout)
    assert len(figures["revenue_by_month"]) == 12
    assert date.fromisoformat(figures["start"]).day == 1
    assert figures["revenue_by_month"][-1]["month"] == figures["end"][:7]


def test_a_period_that_ends_before_it_starts_is_a_clear_error(shop: Shop) -> None:
    done = shop.giftcert("report", "sales", "--workspace", shop.workspace_id, "--from", "2025-03-01",
                         "--to", "2025-02-01")
    assert done.exit_code == 2
    assert "--from (2025-03-01) is after --to (2025-02-01)" in done.stderr
    assert "Traceback" not in done.output


def test_a_date_that_is_no_date_is_refused_by_the_parser(shop: Shop) -> None:
    done = shop.giftcert("report", "sales", "--workspace", shop.workspace_id, "--from", "March")
    assert done.exit_code == 2
    assert "Traceback" not in done.output


def test_expiring_json_looks_as_far_ahead_as_the_workspace_reminds(shop: Shop) -> None:
    done = shop.giftcert("report", "expiring", "--workspace", shop.workspace_id, "--json")
    assert done.exit_code == 0, done.output
    listed = json.loads(done.stdout)
    assert listed["within_days"] == REMINDER_DAYS
    assert [c["code_last4"] for c in listed["certificates"]] == ["SOON"]  # LATR expires in 25 days
    (soon,) = listed["certificates"]
    assert soon["amount_minor"] == 4200
    assert soon["reminded"] is False
    assert shop.expiring_code not in done.stdout


def test_expiring_within_days_widens_the_window(shop: Shop) -> None:
    done = shop.giftcert("report", "expiring", "--workspace", shop.workspace_id, "--within-days", "30", "--json")
    assert done.exit_code == 0, done.output
    assert [c["code_last4"] for c in json.loads(done.stdout)["certificates"]] == ["SOON", "LATR"]
    text = shop.giftcert("report", "expiring", "--workspace", shop.workspace_id, "--within-days", "30")
    assert "2 active certificates" in text.stdout
    assert "...LATR" in text.stdout
    assert shop.expiring_beyond_reminder_code not in text.stdout


@pytest.fixture
async def redeemed_in_part(db: AsyncEngine, database_url: str, workspace: str) -> Shop:
    """tests/integration/test_report_balances.py's three certificates; in January 2025 P (EUR 50)
    redeemed EUR 30 of which EUR 10 was refunded, and C (credit, EUR 30) redeemed EUR 5."""
    shop = await opened_shop(db, workspace)
    await shop.at(ISSUED + timedelta(days=1))
    await shop.refund(await shop.redeem("purchased", 3000), 1000)
    await shop.redeem("credit", 500)
    return Shop(workspace, database_url, "", "")


def test_sales_shows_balances_and_the_value_redeemed_and_refunded(redeemed_in_part: Shop) -> None:
    period = ("--workspace", redeemed_in_part.workspace_id, "--from", "2025-01-01", "--to", "2025-01-31")
    done = redeemed_in_part.giftcert("report", "sales", *period, "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout)
    assert figures["liability_by_kind"] == {"purchased": 3000, "promotional": 2000, "credit": 2500}
    assert figures["outstanding_liability_minor"] == 7500
    assert figures["breakage_by_kind"] == {"purchased": 0, "promotional": 0, "credit": 0}
    assert (figures["redeemed_value_minor"], figures["redemption_count"]) == (3500, 2)
    assert figures["redeemed_value_by_kind"] == {"purchased": 3000, "promotional": 0, "credit": 500}
    assert figures["redemption_count_by_kind"] == {"purchased": 1, "promotional": 0, "credit": 1}
    assert (figures["refunded_value_minor"], figures["refund_count"]) == (1000, 1)

    text = redeemed_in_part.giftcert("report", "sales", *period)
    assert text.exit_code == 0, text.output
    lines = [line.split() for line in text.stdout.splitlines()]
    assert ["Outstanding", "liability", "EUR", "75.00", "(balances", "of", "active", "ones)"] in lines
    assert ["Redeemed", "value", "EUR", "35.00", "in", "2", "redemptions"] in lines
    assert ["credit", "EUR", "5.00", "in", "1"] in lines
    assert ["Refunded", "value", "EUR", "10.00", "in", "1", "refund"] in lines
