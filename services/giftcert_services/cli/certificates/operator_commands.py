"""`giftcert certificates void` and `reactivate`: validated as the Kafka door validates them and
decided by the same ledger functions, so each is published exactly like a message would be."""

import json
from typing import Any
from uuid import UUID, uuid4

import typer
from pydantic import ValidationError

from giftcert.operations.errors import CertificateNotFoundError, CommandRefusedError
from giftcert.operations.voiding import decide_operator_command
from giftcert_contracts.inbound import ReactivateCertificate, VoidCertificate
from giftcert_contracts.outbound import CertificateReactivated, CertificateVoided
from giftcert_services.cli.certificates.output import WORKSPACE_HELP, bad_options, refused
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies


def _decide_operator_command(
    kind: type[VoidCertificate] | type[ReactivateCertificate], fields: dict[str, Any], as_json: bool
) -> None:
    """Validates the command as the Kafka door would and decides it with the same ledger function."""
    try:
        command = kind.model_validate(fields)
    except ValidationError as error:
        raise bad_options(error) from None

    async def decide(deps: Dependencies) -> CertificateVoided | CertificateReactivated:
        return await decide_operator_command(command, deps.new_uow, deps.clock)

    try:
        outcome = run_with_database(decide)
    except CertificateNotFoundError as error:
        raise refused("not_found", str(error)) from None
    except CommandRefusedError as error:
        raise refused(error.reason, error.detail) from None
    if as_json:
        typer.echo(json.dumps({"outcome": outcome.topic.value, **outcome.model_dump(mode="json")}, indent=2))
        return
    done = "voided" if isinstance(outcome, CertificateVoided) else "reactivated"
    typer.echo(f"{done} certificate {outcome.certificate_id} (request {outcome.request_id})")


REQUEST_ID_HELP = "Idempotency key: the same request again is answered as before (default: a new one)."


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
