"""Contract v2's certificate kinds on the operators' command line: `giftcert certificates issue
--kind promotional|credit`, the bulk CSV's `kind`, `reason` and `replaces_order_id` columns, `search
--kind`, and `report sales` (revenue of purchased certificates only, liability by kind); and v2's
`workspace set --pending-days`."""

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_services.cli.bulk_issue import certificate_id_of
from tests.integration.test_bulk_issue import COLUMNS, good_row
from tests.integration.test_certificate_cli import found_ids, giftcert
from tests.scenario import configure

pytestmark = pytest.mark.integration

PERSON = ("--purchaser-name", "Ops", "--purchaser-email", "ops@example.com", "--recipient-name", "Robin",
          "--recipient-email", "robin@example.com")


async def test_an_operator_issues_promotional_and_credit_certificates_from_the_command_line(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    issue = ("certificates", "issue", "--workspace", workspace, "--amount-minor", "2500", *PERSON, "--json")
    promotional = await giftcert(database_url, *issue, "--kind", "promotional", "--reason", "raffle")
    assert promotional.exit_code == 0, promotional.output
    issued = json.loads(promotional.stdout)
    assert (issued["status"], issued["kind"]) == ("active", "promotional")
    credit = await giftcert(
        database_url, *issue, "--kind", "credit", "--reason", "tour cancelled", "--replaces-order-id", "order-9"
    )
    assert credit.exit_code == 0, credit.output
    credit_id = json.loads(credit.stdout)["certificate_id"]
    shown = await giftcert(database_url, "certificates", "show", credit_id, "--workspace", workspace, "--json")
    details = json.loads(shown.stdout)
    assert details["kind"] == "credit"
    assert {"kind": "issued", "reason": "tour cancelled", "reference": "order-9"}.items() <= next(
        e for e in details["activity"] if e["kind"] == "issued"
    ).items()

    no_reason = await giftcert(database_url, *issue, "--kind", "promotional")
    assert no_reason.exit_code == 2, no_reason.output
    no_order = await giftcert(database_url, *issue, "--kind", "credit", "--reason", "cancelled")
    assert no_order.exit_code == 2, no_order.output
    unknown = await giftcert(database_url, *issue, "--kind", "gift", "--reason", "x")
    assert unknown.exit_code == 2, unknown.output

    search = ("certificates", "search", "--workspace", workspace, "--json")
    assert found_ids(await giftcert(database_url, *search, "--kind", "credit")) == [credit_id]
    assert found_ids(await giftcert(database_url, *search, "--kind", "promotional")) == [issued["certificate_id"]]
    assert (await giftcert(database_url, *search, "--kind", "gift")).exit_code == 2

    year = datetime.now(UTC).year
    report = await giftcert(
        database_url, "report", "sales", "--workspace", workspace, "--from", f"{year}-01-01", "--to",
        f"{year}-12-31", "--json",
    )
    assert report.exit_code == 0, report.output
    sales = json.loads(report.stdout)
    assert sum(m["revenue_minor"] for m in sales["revenue_by_month"]) == 0  # nothing was sold
    assert sales["liability_by_kind"] == {"purchased": 0, "promotional": 2500, "credit": 2500}


async def test_a_bulk_csv_issues_kinds_by_the_same_rule_and_names_the_rows_that_break_it(
    db: AsyncEngine, database_url: str, workspace: str, tmp_path: Path
) -> None:
    await configure(db, workspace)
    columns = [*COLUMNS, "kind", "reason", "replaces_order_id"]
    rows = [
        good_row(1) | {"kind": "", "reason": "", "replaces_order_id": ""},  # purchased, pending (no payment)
        good_row(3) | {"kind": "promotional", "reason": "newsletter winners", "replaces_order_id": ""},
        good_row(5) | {"kind": "credit", "reason": "tour cancelled", "replaces_order_id": "order-5"},
        good_row(7) | {"kind": "promotional", "reason": "", "replaces_order_id": ""},  # no reason: line 5
        good_row(9) | {"kind": "credit", "reason": "cancelled", "replaces_order_id": ""},  # no order: line 6
    ]
    source = tmp_path / "kinds.csv"
    with source.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    done = await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--csv", str(source),
                          "--json")
    assert done.exit_code == 1, done.output
    summary = json.loads(done.stdout)
    assert summary["issued"] == 3
    assert [(f["line"], f["reason"]) for f in summary["failed"]] == [(5, "invalid"), (6, "invalid")]
    assert "reason" in summary["failed"][0]["detail"]
    for reference, status, kind in [("order-1", "pending", "purchased"), ("order-3", "active", "promotional"),
                                    ("order-5", "active", "credit")]:
        shown = await giftcert(database_url, "certificates", "show", str(certificate_id_of(workspace, reference)),
                               "--workspace", workspace, "--json")
        assert (json.loads(shown.stdout)["status"], json.loads(shown.stdout)["kind"]) == (status, kind)


async def test_workspace_set_takes_the_pending_days_after_which_a_tick_voids_an_unpaid_certificate(
    database_url: str, workspace: str
) -> None:
    default = await giftcert(database_url, "workspace", "set", workspace)
    assert "pending_days: 0" in default.stdout, default.output  # v1's rule: pending for ever
    week = await giftcert(database_url, "workspace", "set", workspace, "--pending-days", "7")
    assert "pending_days: 7" in week.stdout, week.output
    negative = await giftcert(database_url, "workspace", "set", workspace, "--pending-days", "-1")
    assert negative.exit_code == 2, negative.output
