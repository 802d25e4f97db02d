"""`giftcert certificates issue --csv FILE`: one certificate per row of a spreadsheet export.

Each row carries a `reference` that is its idempotency key: the certificate id is a UUIDv5 of the
workspace and that reference, so running the same file again (after a crash, or to retry the rows
that failed) never issues a row twice. Every row is checked by the wire contract's own model
(PurchaseRequested) and decided by the ledger exactly as a `purchase-requested` message would be;
a bad row is reported with its line number and never stops the others. A row may issue a
`promotional` or `credit` certificate (columns `kind`, `reason`, `replaces_order_id`): active at once,
without a payment, under the same rule as every other door (PurchaseRequested)."""

import asyncio
import csv
import io
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import typer
from pydantic import ValidationError

from giftcert.domain.certificate import Status
from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.issuing import issue_certificate, record_offline_payment
from giftcert_contracts.inbound import PurchaseRequested
from giftcert_services.runtime.bootstrap import Dependencies

BULK_ISSUE_NAMESPACE = UUID("6f1c7d2e-3b58-5e0a-9c4f-1a2b3c4d5e6f")
"""Fixed forever: changing it would make every file issue its rows again under new ids."""

REQUIRED_COLUMNS = (
    "reference", "amount_minor", "purchaser_name", "purchaser_email", "recipient_name", "recipient_email",
)
OPTIONAL_COLUMNS = ("currency", "message", "segment", "payment_reference", "kind", "reason", "replaces_order_id")
ROWS_IN_FLIGHT = 8
"""Rows decided at once: enough to hide the round trips, well under the engine's pool of 10."""


def certificate_id_of(workspace_id: str, reference: str) -> UUID:
    """The row's certificate id. A newline cannot occur in a workspace id, so no two (workspace,
    reference) pairs share a name."""
    return uuid5(BULK_ISSUE_NAMESPACE, f"{workspace_id}\n{reference}")


def validation_problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field, message) for each problem, the field named as the CSV column (`recipient_email`)."""
    problems = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"]) or "row"
        name = {"amount_currency": "currency", "workspace_id": "workspace"}.get(name, name)
        pattern = str(problem.get("ctx", {}).get("pattern", ""))
        forbids_controls = problem["type"] == "string_pattern_mismatch" and "\\x00" in pattern
        message = "one line of text, without control characters" if forbids_controls else problem["msg"]
        problems.append((name, message))
    return problems


class InvalidCsvError(ValueError):
    """The file as a whole cannot be read as a bulk issue: nothing is issued."""


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    """The file's line the row ends on, the header being line 1."""
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class FailedRow:
    line: int
    reference: str
    reason: str
    detail: str


@dataclass
class BulkIssueSummary:
    issued: list[UUID] = field(default_factory=list)
    already_issued: list[UUID] = field(default_factory=list)
    failed: list[FailedRow] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "issued": len(self.issued),
            "already_issued": len(self.already_issued),
            "failed": [
                {"line": f.line, "reference": f.reference, "reason": f.reason, "detail": f.detail}
                for f in sorted(self.failed, key=lambda f: f.line)
            ],
        }


def read_rows(text: str) -> list[CsvRow]:
    """Every data row with its line number; InvalidCsvError when the header is unusable."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        problems = [f"missing column(s): {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s): {', '.join(unknown)}"] if unknown else []
        raise InvalidCsvError("; ".join(problems))
    reader.fieldnames = header
    rows = []
    try:
        for values in reader:
            extra = values.pop(None, None)
            cells = {name: (value or "").strip() for name, value in values.items()}
            if extra:
                cells["__extra__"] = "more cells than the header has columns"
            rows.append(CsvRow(reader.line_num, cells))
    except csv.Error as error:
        raise InvalidCsvError(f"line {reader.line_num}: {error}") from None
    return rows


def _command(row: CsvRow, workspace_id: str, default_currency: str, requested_at: object) -> PurchaseRequested:
    """The row as a purchase request; ValueError or ValidationError when it cannot be one."""
    cells = row.values
    if "__extra__" in cells:
        raise ValueError(cells["__extra__"])
    try:
        amount_minor: object = int(cells["amount_minor"])
    except ValueError:
        raise ValueError(f"amount_minor: {cells['amount_minor']!r} is not a whole number of minor units") from None
    return PurchaseRequested.model_validate(
        {
            "workspace_id": workspace_id,
            "certificate_id": certificate_id_of(workspace_id, cells["reference"]),
            "amount": {"minor": amount_minor, "currency": cells.get("currency") or default_currency},
            "purchaser": {"name": cells["purchaser_name"], "email": cells["purchaser_email"]},
            "recipient": {"name": cells["recipient_name"], "email": cells["recipient_email"]},
            "message": cells.get("message") or None,
            "segment": cells.get("segment") or None,
            "channel": "admin",
            "requested_at": requested_at,
            "kind": cells.get("kind") or "purchased",
            "reason": cells.get("reason") or None,
            "replaces_order_id": cells.get("replaces_order_id") or None,
        }
    )


async def _issue_row(
    row: CsvRow, workspace_id: str, default_currency: str, deps: Dependencies, summary: BulkIssueSummary
) -> None:
    reference = row.values["reference"]

    def failed(reason: str, detail: str) -> None:
        summary.failed.append(FailedRow(row.line, reference, reason, detail))

    try:
        command = _command(row, workspace_id, default_currency, deps.clock.now())
    except ValidationError as error:
        failed("invalid", "; ".join(f"{name}: {message}" for name, message in validation_problems(error)))
        return
    except ValueError as error:
        failed("invalid", str(error))
        return
    try:
        issued = await issue_certificate(command, deps.new_uow, deps.clock)
        payment_reference = row.values.get("payment_reference")
        if payment_reference and issued.certificate.status is Status.PENDING:
            await record_offline_payment(
                workspace_id, command.certificate_id, payment_reference, deps.new_uow, deps.clock
            )
    except CommandRefusedError as refusal:
        failed(refusal.reason, refusal.detail)
        return
    except CertificateNotFoundError as error:
        failed("not_found", str(error))
        return
    (summary.issued if issued.created_now else summary.already_issued).append(command.certificate_id)


def _duplicate_references(rows: list[CsvRow], summary: BulkIssueSummary) -> list[CsvRow]:
    """The rows to issue: a row without a reference, or repeating an earlier row's, fails (issuing it
    would silently return the earlier row's certificate)."""
    first_line: dict[str, int] = {}
    kept = []
    for row in rows:
        reference = row.values["reference"]
        if not reference:
            summary.failed.append(FailedRow(row.line, reference, "invalid", "reference: required"))
        elif reference in first_line:
            summary.failed.append(
                FailedRow(row.line, reference, "invalid", f"reference repeats the one on line {first_line[reference]}")
            )
        else:
            first_line[reference] = row.line
            kept.append(row)
    return kept


async def issue_rows(
    rows: list[CsvRow],
    workspace_id: str,
    deps: Dependencies,
    on_row_done: Callable[[], None] = lambda: None,
) -> BulkIssueSummary:
    """Issues every row, ROWS_IN_FLIGHT at a time, each in units of work of its own."""
    summary = BulkIssueSummary()
    issuable = _duplicate_references(rows, summary)
    for _ in range(len(rows) - len(issuable)):
        on_row_done()
    async with deps.new_uow() as uow:
        default_currency = (await uow.workspaces.get_or_default(workspace_id)).currency
    queue: asyncio.Queue[CsvRow] = asyncio.Queue()
    for row in issuable:
        queue.put_nowait(row)

    async def work() -> None:
        while not queue.empty():
            row = queue.get_nowait()
            await _issue_row(row, workspace_id, default_currency, deps, summary)
            on_row_done()

    await asyncio.gather(*(work() for _ in range(ROWS_IN_FLIGHT)))
    return summary


def run_bulk_issue(
    csv_file: Path, workspace_id: str, as_json: bool, run: Callable[[Callable[[Dependencies], Awaitable[Any]]], Any]
) -> None:
    """The `--csv` form of `certificates issue`: progress on stderr, the summary on stdout, exit 1
    when any row failed."""
    try:
        rows = read_rows(csv_file.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"cannot read {csv_file}: {error}", param_hint="--csv") from None
    except InvalidCsvError as error:
        raise typer.BadParameter(str(error), param_hint="--csv") from None

    with typer.progressbar(length=len(rows), label="issuing", file=sys.stderr) as progress:

        async def issue_all(deps: Dependencies) -> BulkIssueSummary:
            return await issue_rows(rows, workspace_id, deps, on_row_done=lambda: progress.update(1))

        summary: BulkIssueSummary = run(issue_all)

    if as_json:
        typer.echo(json.dumps(summary.as_json(), indent=2))
    else:
        typer.echo(f"issued: {len(summary.issued)}")
        typer.echo(f"already issued: {len(summary.already_issued)}")
        typer.echo(f"failed: {len(summary.failed)}")
        for failure in sorted(summary.failed, key=lambda f: f.line):
            reference = failure.reference or "no reference"
            typer.echo(f"  line {failure.line} ({reference}): {failure.reason}: {failure.detail}")
    if summary.failed:
        raise typer.Exit(1)
