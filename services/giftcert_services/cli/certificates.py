"""`giftcert certificates ...`: what an operator does with certificates from a terminal.

Every command goes through the same operations and ledger functions as the other doors (HTTP,
Kafka), so a void from here is decided and published exactly like a `void` message. Output is for
people by default; `--json` prints one JSON document for scripts. A full code is printed only by
`issue` and never by search or show (which print `code_last4`)."""

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import typer
from pydantic import TypeAdapter, ValidationError

from giftcert.delivery.pdf import DocumentNotAvailableError, UnknownCertificateError, certificate_pdf
from giftcert.delivery.resend import CertificateNotSendableError, resend_certificate_email
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.codes import display_code
from giftcert.mail.sender import smtp_sender
from giftcert.mail.smtp import MailRejected, MailServerUnavailable
from giftcert.operations.details import certificate_details
from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.issuing import issue_certificate, record_offline_payment
from giftcert.operations.search import MAX_PAGE_SIZE, CertificateSearch, InvalidCursorError, search_certificates
from giftcert.operations.voiding import decide_operator_command
from giftcert.store.activity import ActivityEntry
from giftcert_contracts.fields import ExternalId
from giftcert_contracts.inbound import PurchaseRequested, ReactivateCertificate, VoidCertificate
from giftcert_contracts.outbound import CertificateReactivated, CertificateSent, CertificateVoided
from giftcert_services.cli.bulk_issue import run_bulk_issue, validation_problems
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies

EXIT_STATUSES = (
    "Exit status: 0 done; 1 not found, refused (the reason code and detail go to stderr) or, for --csv, "
    "some rows failed; 2 invalid options."
)

app = typer.Typer(help=f"Search, issue, void and deliver certificates. {EXIT_STATUSES}", no_args_is_help=True)

WORKSPACE_HELP = "The workspace (tenant) the certificate belongs to."


def _refused(reason: str, detail: str) -> typer.Exit:
    typer.echo(f"refused: {reason}: {detail}", err=True)
    return typer.Exit(1)


def _not_found(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def _bad_options(error: ValidationError) -> typer.BadParameter:
    """The contract's complaints, each named by the option that carried the field."""
    problems = validation_problems(error)
    hints = ", ".join(dict.fromkeys("--" + name.replace("_", "-") for name, _ in problems))
    return typer.BadParameter("; ".join(message for _, message in problems), param_hint=hints)


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _entry(entry: ActivityEntry) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": entry.kind.value, "at": entry.occurred_at.isoformat()}
    row |= {k: v for k in ("reason", "actor", "reference") if (v := getattr(entry, k)) is not None}
    return row


def _listed(certificate: Certificate) -> dict[str, Any]:
    """A certificate in a search result: enough to recognise it, never its code."""
    return {
        "certificate_id": str(certificate.id),
        "status": certificate.status.value,
        "amount": {"minor": certificate.amount.minor, "currency": certificate.amount.currency},
        "amount_formatted": certificate.amount.formatted(),
        "code_last4": certificate.code_last4,
        "channel": certificate.channel,
        "purchaser_email": certificate.purchaser_email,
        "recipient_name": certificate.recipient_name,
        "recipient_email": certificate.recipient_email,
        "created_at": _when(certificate.created_at),
        "expires_at": _when(certificate.expires_at),
    }


# --- search ---------------------------------------------------------------------------------------


def _moment(value: str | None, option: str, *, upper: bool) -> datetime | None:
    """A date (a whole UTC day: from its start, or up to its end for an upper bound) or an RFC 3339
    time (UTC when it has no offset)."""
    if value is None:
        return None
    try:
        if len(value) == len("2026-01-31"):
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if upper else day, time(), UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a date (2026-01-31) nor an RFC 3339 time (2026-01-31T10:00:00Z)", param_hint=option
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _print_table(found: list[Certificate]) -> None:
    def stamp(value: datetime | None) -> str:
        return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")

    header = ("certificate_id", "status", "amount", "last4", "recipient", "created (UTC)", "expires (UTC)")
    rows = [
        (str(c.id), c.status.value, c.amount.formatted(), c.code_last4, c.recipient_email,
         stamp(c.created_at), stamp(c.expires_at))
        for c in found
    ]
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


@app.command("search")
def search(
    workspace: str = typer.Option(..., "--workspace", help="The workspace to search; no other is ever searched."),
    code: str | None = typer.Option(None, help="The full code, in any spelling (case, spaces and dashes ignored)."),
    purchaser_email: str | None = typer.Option(None, help="The purchaser's email, any case."),
    recipient_email: str | None = typer.Option(None, help="The recipient's email, any case."),
    status: Status | None = typer.Option(None, case_sensitive=False, help="Only certificates in this status."),
    created_from: str | None = typer.Option(None, help="Created at or after: a date or an RFC 3339 time, UTC."),
    created_to: str | None = typer.Option(None, help="Created before this time, or on or before this date."),
    expires_from: str | None = typer.Option(None, help="Expiring at or after: a date or an RFC 3339 time, UTC."),
    expires_to: str | None = typer.Option(None, help="Expiring before this time, or on or before this date."),
    limit: int = typer.Option(50, min=1, max=MAX_PAGE_SIZE, help="Certificates per page."),
    after: str | None = typer.Option(None, metavar="CURSOR", help="The next cursor printed with the last page."),
    as_json: bool = typer.Option(False, "--json", help='{"certificates": [...], "next_cursor": ...}'),
) -> None:
    """Certificates of one workspace, newest first, a page at a time (the next cursor is printed)."""
    try:
        query = CertificateSearch(
            workspace_id=workspace,
            code=code,
            purchaser_email=purchaser_email,
            recipient_email=recipient_email,
            status=status,
            created_from=_moment(created_from, "--created-from", upper=False),
            created_to=_moment(created_to, "--created-to", upper=True),
            expires_from=_moment(expires_from, "--expires-from", upper=False),
            expires_to=_moment(expires_to, "--expires-to", upper=True),
            limit=limit,
            after=after,
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None

    async def find(deps: Dependencies) -> Any:
        async with deps.engine.connect() as connection:
            return await search_certificates(connection, query)

    try:
        page = run_with_database(find)
    except InvalidCursorError as error:
        raise typer.BadParameter(str(error), param_hint="--after") from None
    if as_json:
        listed = [_listed(c) for c in page.certificates]
        typer.echo(json.dumps({"certificates": listed, "next_cursor": page.next_cursor}, indent=2))
        return
    if not page.certificates:
        typer.echo("no certificates found")
    else:
        _print_table(page.certificates)
    typer.echo(f"next cursor: {page.next_cursor}" if page.next_cursor else "(last page)")


# --- show -----------------------------------------------------------------------------------------


@app.command("show")
def show(
    certificate_id: UUID = typer.Argument(..., metavar="CERTIFICATE_ID"),
    workspace: str = typer.Option(..., "--workspace", help="The certificate's workspace."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Status, amount, dates, code_last4 and the activity log of one certificate (exit 1: not found)."""
    try:
        details = run_with_database(lambda deps: certificate_details(deps.new_uow(), workspace, certificate_id))
    except CertificateNotFoundError as error:
        raise _not_found(str(error)) from None
    certificate = details.certificate
    found: dict[str, Any] = {
        "certificate_id": str(certificate.id),
        "workspace_id": certificate.workspace_id,
        "status": certificate.status.value,
        "amount": {"minor": certificate.amount.minor, "currency": certificate.amount.currency},
        "amount_formatted": certificate.amount.formatted(),
        "code_last4": certificate.code_last4,
        "channel": certificate.channel,
        "created_at": _when(certificate.created_at),
        "activated_at": _when(certificate.activated_at),
        "expires_at": _when(certificate.expires_at),
        "redeemed_at": _when(certificate.redeemed_at),
        "voided_at": _when(certificate.voided_at),
        "expired_at": _when(certificate.expired_at),
        "order_id": details.order_id,
        "activity": [_entry(e) for e in details.activity],
    }
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    for key in ("certificate_id", "workspace_id", "status", "amount_formatted", "code_last4", "channel",
                "created_at", "activated_at", "expires_at", "redeemed_at", "voided_at", "expired_at", "order_id"):
        if found[key] is not None:
            typer.echo(f"{key.replace('_formatted', ''):>14}: {found[key]}")
    typer.echo("      activity:")
    for entry in found["activity"]:
        extra = ", ".join(f"{k}={entry[k]}" for k in ("reason", "actor", "reference") if k in entry)
        typer.echo(f"  {entry['at']}  {entry['kind']:<22} {extra}")


# --- issue ----------------------------------------------------------------------------------------


def _issue_one(
    workspace: str, fields: dict[str, Any], payment_reference: str | None
) -> tuple[bool, Certificate]:
    """Whether the certificate was created now (False: the same id was issued before), and the
    certificate as it is after the payment, if one was recorded."""

    async def issue(deps: Dependencies) -> tuple[bool, Certificate]:
        if fields["amount"]["currency"] is None:
            async with deps.new_uow() as uow:
                fields["amount"]["currency"] = (await uow.workspaces.get_or_default(workspace)).currency
        try:
            command = PurchaseRequested.model_validate(fields | {"requested_at": deps.clock.now()})
        except ValidationError as error:
            raise _bad_options(error) from None
        issued = await issue_certificate(command, deps.new_uow, deps.clock)
        certificate = issued.certificate
        if payment_reference is not None and certificate.status is Status.PENDING:
            certificate = await record_offline_payment(
                workspace, certificate.id, payment_reference, deps.new_uow, deps.clock
            )
        return issued.created_now, certificate

    try:
        return run_with_database(issue)
    except CommandRefusedError as refusal:
        raise _refused(refusal.reason, refusal.detail) from None
    except CertificateNotFoundError as error:
        raise _not_found(str(error)) from None


@app.command("issue")
def issue(
    workspace: str = typer.Option(..., "--workspace", help=WORKSPACE_HELP),
    csv_file: Path | None = typer.Option(
        None, "--csv", metavar="FILE", exists=True, dir_okay=False, readable=True,
        help="Issue one certificate per row (columns: reference, amount_minor, currency, purchaser_name, "
        "purchaser_email, recipient_name, recipient_email, message, segment, payment_reference).",
    ),
    amount_minor: int | None = typer.Option(None, help="The value in minor units (5000 is EUR 50.00)."),
    currency: str | None = typer.Option(None, help="ISO 4217; the workspace's currency when not given."),
    purchaser_name: str | None = typer.Option(None),
    purchaser_email: str | None = typer.Option(None),
    recipient_name: str | None = typer.Option(None),
    recipient_email: str | None = typer.Option(None),
    message: str | None = typer.Option(None, help="A personal message printed on the certificate."),
    segment: str | None = typer.Option(None, help="The product segment the certificate is sold for."),
    certificate_id: UUID | None = typer.Option(
        None, help="Idempotency key: the same id again issues nothing new (default: a new one)."
    ),
    payment_reference: str | None = typer.Option(
        None, help="A payment taken offline: records it, so the certificate is active at once."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Issue a certificate (channel admin) and print its id, status and code; or, with --csv, many."""
    single = {
        "--amount-minor": amount_minor, "--currency": currency, "--purchaser-name": purchaser_name,
        "--purchaser-email": purchaser_email, "--recipient-name": recipient_name,
        "--recipient-email": recipient_email, "--message": message, "--segment": segment,
        "--certificate-id": certificate_id, "--payment-reference": payment_reference,
    }
    if csv_file is not None:
        given = [name for name, value in single.items() if value is not None]
        if given:
            raise typer.BadParameter(f"the file gives every certificate's fields; drop {', '.join(given)}",
                                     param_hint="--csv")
        run_bulk_issue(csv_file, workspace, as_json, run_with_database)
        return
    required = ("--amount-minor", "--purchaser-name", "--purchaser-email", "--recipient-name", "--recipient-email")
    missing = [name for name in required if single[name] is None]
    if missing:
        raise typer.BadParameter(f"missing {', '.join(missing)} (or give --csv FILE)")
    if payment_reference is not None:
        try:
            payment_reference = TypeAdapter(ExternalId).validate_python(payment_reference)
        except ValidationError:
            raise typer.BadParameter("1 to 128 characters on one line", param_hint="--payment-reference") from None
    fields = {
        "workspace_id": workspace,
        "certificate_id": certificate_id or uuid4(),
        "amount": {"minor": amount_minor, "currency": currency},
        "purchaser": {"name": purchaser_name, "email": purchaser_email},
        "recipient": {"name": recipient_name, "email": recipient_email},
        "message": message,
        "segment": segment,
        "channel": "admin",
    }
    created_now, certificate = _issue_one(workspace, fields, payment_reference)
    issued = {
        "certificate_id": str(certificate.id),
        "status": certificate.status.value,
        "amount": {"minor": certificate.amount.minor, "currency": certificate.amount.currency},
        "amount_formatted": certificate.amount.formatted(),
        "code": display_code(certificate.code),
        "expires_at": _when(certificate.expires_at),
        "created_now": created_now,
    }
    if as_json:
        typer.echo(json.dumps(issued, indent=2))
        return
    typer.echo(f"certificate_id: {issued['certificate_id']}{'' if created_now else '  (issued before)'}")
    typer.echo(f"        status: {issued['status']}")
    typer.echo(f"        amount: {issued['amount_formatted']}")
    typer.echo(f"          code: {issued['code']}")
    if issued["expires_at"] is not None:
        typer.echo(f"       expires: {issued['expires_at']}")


# --- void and reactivate --------------------------------------------------------------------------


def _decide_operator_command(
    kind: type[VoidCertificate] | type[ReactivateCertificate], fields: dict[str, Any], as_json: bool
) -> None:
    """Validates the command as the Kafka door would and decides it with the same ledger function."""
    try:
        command = kind.model_validate(fields)
    except ValidationError as error:
        raise _bad_options(error) from None

    async def decide(deps: Dependencies) -> CertificateVoided | CertificateReactivated:
        return await decide_operator_command(command, deps.new_uow, deps.clock)

    try:
        outcome = run_with_database(decide)
    except CertificateNotFoundError as error:
        raise _refused("not_found", str(error)) from None
    except CommandRefusedError as error:
        raise _refused(error.reason, error.detail) from None
    if as_json:
        typer.echo(json.dumps({"outcome": outcome.topic.value, **outcome.model_dump(mode="json")}, indent=2))
        return
    done = "voided" if isinstance(outcome, CertificateVoided) else "reactivated"
    typer.echo(f"{done} certificate {outcome.certificate_id} (request {outcome.request_id})")


REQUEST_ID_HELP = "Idempotency key: the same request again is answered as before (default: a new one)."


@app.command("void")
def void(
    certificate_id: UUID = typer.Argument(..., metavar="CERTIFICATE_ID"),
    workspace: str = typer.Option(..., "--workspace", help=WORKSPACE_HELP),
    reason: str = typer.Option(..., help="Why, for the activity log."),
    actor: str = typer.Option(..., help="Who, for the activity log."),
    request_id: UUID | None = typer.Option(None, help=REQUEST_ID_HELP),
    as_json: bool = typer.Option(False, "--json", help="The certificate-voided event as JSON."),
) -> None:
    """Void an active certificate (exit 1 with the reason code when refused, e.g. not_found)."""
    _decide_operator_command(VoidCertificate, {
        "workspace_id": workspace, "request_id": request_id or uuid4(), "certificate_id": certificate_id,
        "reason": reason, "actor": actor,
    }, as_json)


@app.command("reactivate")
def reactivate(
    certificate_id: UUID = typer.Argument(..., metavar="CERTIFICATE_ID"),
    workspace: str = typer.Option(..., "--workspace", help=WORKSPACE_HELP),
    reason: str = typer.Option(..., help="Why, for the activity log."),
    actor: str = typer.Option(..., help="Who, for the activity log."),
    request_id: UUID | None = typer.Option(None, help=REQUEST_ID_HELP),
    as_json: bool = typer.Option(False, "--json", help="The certificate-reactivated event as JSON."),
) -> None:
    """Restore a voided certificate before it expires (exit 1 with the reason code when refused)."""
    _decide_operator_command(ReactivateCertificate, {
        "workspace_id": workspace, "request_id": request_id or uuid4(), "certificate_id": certificate_id,
        "reason": reason, "actor": actor,
    }, as_json)


# --- pdf and resend -------------------------------------------------------------------------------


@app.command("pdf")
def pdf(
    certificate_id: UUID = typer.Argument(..., metavar="CERTIFICATE_ID"),
    workspace: str = typer.Option(..., "--workspace", help=WORKSPACE_HELP),
    output: Path | None = typer.Option(
        None, "--output", "-o", metavar="FILE", dir_okay=False, help="Where to write it (default: ID.pdf)."
    ),
) -> None:
    """Write the certificate's PDF to a file (exit 1: not found, or not paid yet: no PDF)."""
    try:
        content = run_with_database(lambda deps: certificate_pdf(deps.new_uow, workspace, certificate_id))
    except UnknownCertificateError as error:
        raise _not_found(str(error)) from None
    except DocumentNotAvailableError as error:
        raise _refused("not_available", str(error)) from None
    target = output or Path(f"{certificate_id}.pdf")
    try:
        target.write_bytes(content)
    except OSError as error:
        raise typer.BadParameter(f"cannot write {target}: {error.strerror}", param_hint="--output") from None
    typer.echo(f"wrote {target} ({len(content):,} bytes)")


@app.command("resend")
def resend(
    certificate_id: UUID = typer.Argument(..., metavar="CERTIFICATE_ID"),
    workspace: str = typer.Option(..., "--workspace", help=WORKSPACE_HELP),
    as_json: bool = typer.Option(False, "--json", help="The certificate-sent event as JSON."),
) -> None:
    """Email an active certificate to its recipient again via GIFTCERT_SMTP_* (exit 1: not sent).

    Not sent: no such certificate, not active, or the mail server refused it or could not be reached."""

    async def send_again(deps: Dependencies) -> CertificateSent:
        return await resend_certificate_email(
            workspace, certificate_id, deps.new_uow, deps.clock, smtp_sender(deps.settings),
            mail_from=deps.settings.mail_from,
        )

    try:
        sent = run_with_database(send_again)
    except UnknownCertificateError as error:
        raise _not_found(str(error)) from None
    except CertificateNotSendableError as error:
        raise _refused("not_active", str(error)) from None
    except (MailServerUnavailable, MailRejected) as error:
        raise _refused("mail_not_sent", str(error) or type(error).__name__) from None
    if as_json:
        typer.echo(json.dumps({"outcome": sent.topic.value, **sent.model_dump(mode="json")}, indent=2))
        return
    typer.echo(f"sent certificate {sent.certificate_id} to {sent.to}")
