"""certificate-activated -> the certificate's PDF stored in the database -> pdf-ready; and the PDF
for an operator to download.

Rendering happens in a worker thread outside any transaction; the document row and its pdf-ready
outbox row are then written together. A certificate has one document: a repeat finds it and
publishes nothing new. The rendering is a span of its own (`render certificate pdf`) when the worker
traces: `tracer` is then its tracer, else the no-op one, which costs nothing."""

import asyncio
import hashlib
from uuid import UUID, uuid4

from opentelemetry.trace import NoOpTracer, Tracer

from giftcert.clock import Clock
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.certificate_document import certificate_document, document_id_of
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.rendering.certificate_pdf import render_certificate_pdf
from giftcert.store.documents import StoredDocument
from giftcert.store.unit_of_work import UnitOfWork, UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateActivated, PdfReady

NO_SPANS = NoOpTracer()


class UnknownCertificateError(LookupError):
    pass


class DocumentNotAvailableError(Exception):
    """The certificate exists, but there is no PDF to give for it."""


class CertificateNotPaidError(DocumentNotAvailableError):
    """A pending certificate: its code is not valid until paid, so it is never printed."""

    def __init__(self, certificate_id: UUID) -> None:
        super().__init__(f"certificate {certificate_id} is not paid yet: it has no PDF")


async def _certificate_and_workspace(
    uow: UnitOfWork, workspace_id: str, certificate_id: UUID
) -> tuple[Certificate, WorkspaceSettings]:
    """Within an open unit of work."""
    certificate = await uow.certificates.get(workspace_id, certificate_id)
    if certificate is None:
        raise UnknownCertificateError(f"no certificate {certificate_id} in workspace {workspace_id}")
    return certificate, await uow.workspaces.get_or_default(workspace_id)


async def _rendered(certificate: Certificate, workspace: WorkspaceSettings) -> bytes:
    return await asyncio.to_thread(render_certificate_pdf, certificate_document(certificate, workspace))


async def render_document(uow: UnitOfWork, workspace_id: str, certificate_id: UUID) -> bytes:
    """The PDF of a certificate, rendered anew from the store (same bytes every time)."""
    async with uow:
        certificate, workspace = await _certificate_and_workspace(uow, workspace_id, certificate_id)
    return await _rendered(certificate, workspace)


async def certificate_pdf(new_uow: UnitOfWorkFactory, workspace_id: str, certificate_id: UUID) -> bytes:
    """The PDF an operator downloads: the stored one, or, before the documents worker stored it, the
    same bytes rendered anew. Never stored from here: the documents worker publishes pdf-ready only
    when it stores the document itself, and without pdf-ready the email would never go."""
    async with new_uow() as uow:
        certificate, workspace = await _certificate_and_workspace(uow, workspace_id, certificate_id)
        if certificate.status is Status.PENDING or certificate.expires_at is None:
            raise CertificateNotPaidError(certificate_id)
        document = await uow.documents.of_certificate(certificate_id)
    if document is not None:
        return document.content
    return await _rendered(certificate, workspace)


async def store_certificate_pdf(
    event: CertificateActivated, new_uow: UnitOfWorkFactory, clock: Clock, *, tracer: Tracer = NO_SPANS
) -> PdfReady | None:
    async with new_uow() as uow:
        if await uow.documents.of_certificate(event.certificate_id) is not None:
            return None
    with tracer.start_as_current_span("render certificate pdf") as span:
        content = await render_document(new_uow(), event.workspace_id, event.certificate_id)
        span.set_attribute("giftcert.pdf.size_bytes", len(content))
    async with new_uow() as uow:
        now = clock.now()
        document = StoredDocument(
            id=document_id_of(event.certificate_id),
            certificate_id=event.certificate_id,
            workspace_id=event.workspace_id,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            size_bytes=len(content),
            created_at=now,
        )
        if not await uow.documents.add(document):
            return None
        ready = PdfReady(
            workspace_id=event.workspace_id,
            event_id=uuid4(),
            occurred_at=now,
            certificate_id=event.certificate_id,
            document_id=document.id,
            sha256=document.sha256,
            size_bytes=document.size_bytes,
        )
        await uow.outbox.add(ready)
        await uow.commit()
    return ready
