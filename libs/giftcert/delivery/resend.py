"""An operator sends a certificate's email again (the recipient lost it, or the workspace sends no
activation email and delivers by hand): the same email with the same PDF, then `sent` in the
activity log and certificate-sent, as for the first email.

Not idempotent, and not meant to be: each call is a request to send once more. The email has a
Message-ID of its own (the certificate-sent event id), so no mail system drops it as a copy of
the first."""

from uuid import UUID, uuid4

from giftcert.clock import Clock
from giftcert.delivery.certificate_document import document_id_of
from giftcert.delivery.email import activation_email, record_sent
from giftcert.delivery.pdf import UnknownCertificateError, certificate_pdf
from giftcert.domain.certificate import Status
from giftcert.mail.sender import SendEmail
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateSent


class CertificateNotSendableError(Exception):
    """Only an active certificate is sent: a pending one has no valid code yet, and a redeemed,
    voided or expired one no code the recipient could still use."""

    def __init__(self, certificate_id: UUID, status: Status) -> None:
        super().__init__(f"certificate {certificate_id} is {status}: only an active certificate is sent")
        self.status = status


async def resend_certificate_email(
    workspace_id: str, certificate_id: UUID, new_uow: UnitOfWorkFactory, clock: Clock, send: SendEmail, *,
    mail_from: str,
) -> CertificateSent:
    """Raises UnknownCertificateError, CertificateNotSendableError, or what `send` raises (then
    nothing is recorded)."""
    async with new_uow() as uow:
        certificate = await uow.certificates.get(workspace_id, certificate_id)
        if certificate is None:
            raise UnknownCertificateError(f"no certificate {certificate_id} in workspace {workspace_id}")
        workspace = await uow.workspaces.get_or_default(workspace_id)
    if certificate.status is not Status.ACTIVE:
        raise CertificateNotSendableError(certificate_id, certificate.status)
    pdf = await certificate_pdf(new_uow, workspace_id, certificate_id)
    event_id = uuid4()
    await send(activation_email(
        certificate, workspace, pdf, mail_from=mail_from, sent_at=clock.now(), resend_id=event_id
    ))
    async with new_uow() as uow:
        sent = await record_sent(uow, certificate, document_id_of(certificate_id), clock.now(), event_id=event_id)
        await uow.commit()
    return sent
