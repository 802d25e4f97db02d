"""What a certificate's PDF and emails say, taken once from the certificate and its workspace: the
renderer and the composer read these fields, not the certificate."""

from uuid import NAMESPACE_URL, UUID, uuid5

from giftcert.domain.certificate import Certificate
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.rendering.certificate_pdf import CertificateDocument

_DOCUMENT_NAMESPACE = uuid5(NAMESPACE_URL, "urn:giftcert:document")


def document_id_of(certificate_id: UUID) -> UUID:
    """Stable: a regenerated PDF keeps its id (and, rendering being deterministic, its bytes)."""
    return uuid5(_DOCUMENT_NAMESPACE, str(certificate_id))


def certificate_document(certificate: Certificate, workspace: WorkspaceSettings) -> CertificateDocument:
    if certificate.expires_at is None:
        raise ValueError(f"certificate {certificate.id} is not activated: it has no PDF and no expiry")
    return CertificateDocument(
        workspace_name=workspace.name,
        amount=certificate.amount,
        recipient_name=certificate.recipient_name,
        purchaser_name=certificate.purchaser_name,
        message=certificate.message,
        code=certificate.code,
        expires_at=certificate.expires_at,
        locale=certificate.locale or workspace.locale,
    )
