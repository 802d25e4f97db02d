"""`giftcert certificates issue`: one certificate from options, or many from a CSV file, decided
as a purchase request on the admin channel; a payment taken offline can be recorded with it. The
only command that prints a full code."""

import json
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import typer
from pydantic import TypeAdapter, ValidationError

from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.codes import display_code
from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.issuing import issue_certificate, record_offline_payment
from giftcert_contracts.fields import ExternalId
from giftcert_contracts.inbound import PurchaseRequested
from giftcert_services.cli.bulk_issue import run_bulk_issue
from giftcert_services.cli.certificates.output import WORKSPACE_HELP, bad_options, not_found, refused, when
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies


class _Kind(StrEnum):
    PURCHASED = "purchased"
    PROMOTIONAL = "promotional"
    CREDIT = "credit"


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
            raise bad_options(error) from None
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
        raise refused(refusal.reason, refusal.detail) from None
    except CertificateNotFoundError as error:
        raise not_found(str(error)) from None


def issue(
    workspace: str = typer.Option(..., "--workspace", help=WORKSPACE_HELP),
    csv_file: Path | None = typer.Option(
        None, "--csv", metavar="FILE", exists=True, dir_okay=False, readable=True,
        help="Issue one certificate per row (columns: reference, amount_minor, currency, purchaser_name, "
        "purchaser_email, recipient_name, recipient_email, message, segment, payment_reference, kind, reason, "
        "replaces_order_id).",
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
    kind: _Kind = typer.Option(
        _Kind.PURCHASED, help="purchased (paid), or promotional or credit: issued without a payment, active at once."
    ),
    reason: str | None = typer.Option(None, help="Why a promotional or credit certificate is issued (required)."),
    replaces_order_id: str | None = typer.Option(None, help="The order a credit certificate replaces (required)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Issue a certificate (channel admin) and print its id, status and code; or, with --csv, many."""
    single = {
        "--amount-minor": amount_minor, "--currency": currency, "--purchaser-name": purchaser_name,
        "--purchaser-email": purchaser_email, "--recipient-name": recipient_name,
        "--recipient-email": recipient_email, "--message": message, "--segment": segment,
        "--certificate-id": certificate_id, "--payment-reference": payment_reference,
        "--reason": reason, "--replaces-order-id": replaces_order_id,
    }
    if csv_file is not None:
        given = [name for name, value in single.items() if value is not None]
        given += ["--kind"] if kind is not _Kind.PURCHASED else []
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
        "kind": kind.value,
        "reason": reason,
        "replaces_order_id": replaces_order_id,
    }
    created_now, certificate = _issue_one(workspace, fields, payment_reference)
    issued = {
        "certificate_id": str(certificate.id),
        "status": certificate.status.value,
        "amount": {"minor": certificate.amount.minor, "currency": certificate.amount.currency},
        "amount_formatted": certificate.amount.formatted(),
        "code": display_code(certificate.code),
        "expires_at": when(certificate.expires_at),
        "created_now": created_now,
        "kind": certificate.kind,
    }
    if as_json:
        typer.echo(json.dumps(issued, indent=2))
        return
    typer.echo(f"certificate_id: {issued['certificate_id']}{'' if created_now else '  (issued before)'}")
    typer.echo(f"        status: {issued['status']}")
    typer.echo(f"          kind: {issued['kind']}")
    typer.echo(f"        amount: {issued['amount_formatted']}")
    typer.echo(f"          code: {issued['code']}")
    if issued["expires_at"] is not None:
        typer.echo(f"       expires: {issued['expires_at']}")
