"""`giftcert certificates issue --csv FILE`: one certificate per row, idempotent per row, bad rows
reported by line number without stopping the others."""

import asyncio
import csv
import json
import time
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from giftcert_services.cli.bulk_issue import certificate_id_of
from giftcert_services.cli.main import app
from tests.scenario import configure

pytestmark = pytest.mark.integration

COLUMNS = [
    "reference", "amount_minor", "currency", "purchaser_name", "purchaser_email", "recipient_name",
    "recipient_email", "message", "segment", "payment_reference",
]


async def giftcert(database_url: str, *args: str) -> Result:
    environment = {"GIFTCERT_DATABASE_URL": database_url, "COLUMNS": "200"}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=environment)


def good_row(number: int) -> dict[str, str]:
    return {
        "reference": f"order-{number}",
        "amount_minor": str(1000 + number),
        "currency": "",
        "purchaser_name": f"Purchaser {number}",
        "purchaser_email": f"buyer{number}@example.com",
        "recipient_name": f"Recipient {number}",
        "recipient_email": f"friend{number}@example.com",
        "message": "Happy travels!" if number % 3 == 0 else "",
        "segment": "",
        "payment_reference": f"till-{number}" if number % 2 == 0 else "",
    }


BAD_ROWS: dict[int, dict[str, str]] = {
    # row index (0-based) -> what is wrong with it; its line in the file is index + 2
    7: {"recipient_email": "not-an-email"},
    95: {"amount_minor": "-500"},
    180: {"amount_minor": "999999"},  # above the workspace's max_minor
    260: {"recipient_name": ""},
    333: {"recipient_email": ""},
    404: {"amount_minor": "12.50"},
    555: {"currency": "XYZ"},
    640: {"currency": "USD"},  # a real currency, but not the workspace's
    777: {"reference": "order-3"},  # repeats row 3's reference
    901: {"reference": ""},
}


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


async def count_of(db: AsyncEngine, workspace: str, status: str | None = None) -> int:
    async with db.connect() as connection:
        query = "SELECT count(*) FROM certificates WHERE workspace_id = :ws"
        if status is not None:
            query += " AND status = :status"
        return int(await connection.scalar(text(query), {"ws": workspace, "status": status}) or 0)


@pytest.mark.timeout(240)
async def test_a_thousand_rows_with_ten_bad_ones_issue_990_name_the_bad_lines_and_rerun_issues_nothing(
    db: AsyncEngine, database_url: str, workspace: str, tmp_path: Path
) -> None:
    await configure(db, workspace, currency="EUR", min_minor=1000, max_minor=5000)
    rows = [good_row(i) | BAD_ROWS.get(i, {}) for i in range(1000)]
    source = tmp_path / "certificates.csv"
    write_csv(source, rows)
    bad_lines = sorted(index + 2 for index in BAD_ROWS)

    started = time.monotonic()
    first = await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--csv", str(source),
                           "--json")
    elapsed = time.monotonic() - started
    assert first.exit_code == 1, first.output  # some rows failed
    summary = json.loads(first.stdout)
    assert summary["issued"] == 990
    assert summary["already_issued"] == 0
    assert [failure["line"] for failure in summary["failed"]] == bad_lines
    reasons = {failure["line"]: failure["reason"] for failure in summary["failed"]}
    assert reasons[180 + 2] == "amount_out_of_range"
    assert reasons[640 + 2] == "currency_not_supported"
    assert reasons[7 + 2] == "invalid"
    details = {failure["line"]: failure["detail"] for failure in summary["failed"]}
    assert "recipient_email" in details[7 + 2]
    assert "line 5" in details[777 + 2]  # row 3 is on line 5
    assert elapsed < 120, f"1,000 rows took {elapsed:.0f} s"

    assert await count_of(db, workspace) == 990
    paid_good_rows = sum(1 for i in range(0, 1000, 2) if i not in BAD_ROWS)
    assert await count_of(db, workspace, "active") == paid_good_rows

    again = await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--csv", str(source),
                           "--json")
    assert again.exit_code == 1
    repeated = json.loads(again.stdout)
    assert repeated["issued"] == 0
    assert repeated["already_issued"] == 990
    assert [failure["line"] for failure in repeated["failed"]] == bad_lines
    assert await count_of(db, workspace) == 990


async def test_the_certificate_id_of_a_row_is_derived_from_workspace_and_reference(
    db: AsyncEngine, database_url: str, workspace: str, tmp_path: Path
) -> None:
    await configure(db, workspace)
    source = tmp_path / "one.csv"
    write_csv(source, [good_row(2)])

    done = await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--csv", str(source))
    assert done.exit_code == 0, done.output
    assert "issued: 1" in done.stdout
    assert "failed: 0" in done.stdout
    shown = await giftcert(
        database_url, "certificates", "show", str(certificate_id_of(workspace, "order-2")), "--workspace", workspace
    )
    assert shown.exit_code == 0, shown.output
    assert "status: active" in shown.stdout  # the row's payment_reference was recorded
    assert certificate_id_of(workspace, "order-2") != certificate_id_of(f"{workspace}-other", "order-2")


async def test_a_row_changed_since_its_reference_was_issued_fails_as_idempotency_key_reused(
    db: AsyncEngine, database_url: str, workspace: str, tmp_path: Path
) -> None:
    await configure(db, workspace)
    source = tmp_path / "changed.csv"
    write_csv(source, [good_row(20), good_row(21)])
    assert (await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--csv", str(source))
            ).exit_code == 0
    write_csv(source, [good_row(20), good_row(21) | {"amount_minor": "4000"}])

    again = await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--csv", str(source))
    assert again.exit_code == 1
    assert "line 3 (order-21): idempotency_key_reused" in again.stdout
    assert await count_of(db, workspace) == 2


async def test_a_human_summary_lists_each_failed_line_with_its_reason(
    db: AsyncEngine, database_url: str, workspace: str, tmp_path: Path
) -> None:
    await configure(db, workspace)
    source = tmp_path / "mixed.csv"
    write_csv(source, [good_row(10), good_row(11) | {"purchaser_email": "nope"}, good_row(12)])

    done = await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--csv", str(source))
    assert done.exit_code == 1
    assert "issued: 2" in done.stdout
    assert "failed: 1" in done.stdout
    assert "line 3 (order-11): invalid: purchaser_email" in done.stdout
    assert "Traceback" not in done.output


async def test_a_file_with_a_missing_or_unknown_column_issues_nothing(
    db: AsyncEngine, database_url: str, workspace: str, tmp_path: Path
) -> None:
    await configure(db, workspace)
    source = tmp_path / "typo.csv"
    source.write_text("reference,amount_minor,purchaser_name,purchaser_email,recipient_name,recipient_mail\n"
                      "r1,5000,Pat,pat@example.com,Robin,robin@example.com\n")

    refused = await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--csv", str(source))
    assert refused.exit_code == 2
    assert "recipient_email" in refused.stderr
    assert "recipient_mail" in refused.stderr
    assert await count_of(db, workspace) == 0
