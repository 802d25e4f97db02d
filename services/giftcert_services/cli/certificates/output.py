"""What every `giftcert certificates` command prints and how it exits: the exit statuses, the
refusal and not-found messages, and the JSON forms of a certificate and an activity entry."""

from datetime import datetime
from typing import Any

import typer
from pydantic import ValidationError

from giftcert.domain.certificate import Certificate
from giftcert.store.activity import ActivityEntry
from giftcert_services.cli.bulk_issue import validation_problems

EXIT_STATUSES = (
    "Exit status: 0 done; 1 not found, refused (the reason code and detail go to stderr) or, for --csv, "
    "some rows failed; 2 invalid options."
)
WORKSPACE_HELP = "The workspace (tenant) the certificate belongs to."


def refused(reason: str, detail: str) -> typer.Exit:
    typer.echo(f"refused: {reason}: {detail}", err=True)
    return typer.Exit(1)


def not_found(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def bad_options(error: ValidationError) -> typer.BadParameter:
    """The contract's complaints, each named by the option that carried the field."""
    problems = validation_problems(error)
    hints = ", ".join(dict.fromkeys("--" + name.replace("_", "-") for name, _ in problems))
    return typer.BadParameter("; ".join(message for _, message in problems), param_hint=hints)


def when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def activity_entry(entry: ActivityEntry) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": entry.kind.value, "at": entry.occurred_at.isoformat()}
    row |= {k: v for k in ("reason", "actor", "reference") if (v := getattr(entry, k)) is not None}
    return row


def as_listed(certificate: Certificate) -> dict[str, Any]:
    """A certificate in a search result: enough to recognise it, never its code."""
    return {
        "certificate_id": str(certificate.id),
        "status": certificate.status.value,
        "amount": {"minor": certificate.amount.minor, "currency": certificate.amount.currency},
        "amount_formatted": certificate.amount.formatted(),
        "code_last4": certificate.code_last4,
        "channel": certificate.channel,
        "kind": certificate.kind,
        "purchaser_email": certificate.purchaser_email,
        "recipient_name": certificate.recipient_name,
        "recipient_email": certificate.recipient_email,
        "created_at": when(certificate.created_at),
        "expires_at": when(certificate.expires_at),
    }
