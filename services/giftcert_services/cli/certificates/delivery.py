"""`giftcert certificates pdf` and `resend`: a certificate's PDF to a file, its email again."""

import json
from pathlib import Path
from uuid import UUID

import typer

from giftcert.delivery.pdf import DocumentNotAvailableError, UnknownCertificateError, certificate_pdf
from giftcert.delivery.resend import CertificateNotSendableError, resend_certificate_email
from giftcert.mail.sender import smtp_sender
from giftcert.mail.smtp import MailRejected, MailServerUnavailable
from giftcert_contracts.outbound import CertificateSent
from giftcert_services.cli.certificates.output import WORKSPACE_HELP, not_found, refused
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies


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
        raise not_found(str(error)) from None
    except DocumentNotAvailableError as error:
        raise refused("not_available", str(error)) from None
    target = output or Path(f"{certificate_id}.pdf")
    try:
        target.write_bytes(content)
    except OSError as error:
        raise typer.BadParameter(f"cannot write {target}: {error.strerror}", param_hint="--output") from None
    typer.echo(f"wrote {target} ({len(content):,} bytes)")


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
        raise not_found(str(error)) from None
    except CertificateNotSendableError as error:
        raise refused("not_active", str(error)) from None
    except (MailServerUnavailable, MailRejected) as error:
        raise refused("mail_not_sent", str(error) or type(error).__name__) from None
    if as_json:
        typer.echo(json.dumps({"outcome": sent.topic.value, **sent.model_dump(mode="json")}, indent=2))
        return
    typer.echo(f"sent certificate {sent.certificate_id} to {sent.to}")
