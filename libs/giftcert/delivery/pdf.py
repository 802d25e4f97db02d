"""certificate-activated -> the certificate's PDF stored in the database -> pdf-ready; and the PDF
for an operator to download.

Rendering happens in a worker thread outside any transaction; the document rows and their
pdf-ready outbox rows are then written together, for a batch of certificates at a time. A
certificate has one document: a repeat finds it and publishes nothing new. Each drawing is a span of
its own (`render certificate pdf`) when the worker traces: `tracer` is then its tracer, else the
no-op one, which costs nothing."""

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from uuid import UUID, uuid4

from opentelemetry.context import Context
from opentelemetry.trace import NoOpTracer, Tracer

from giftcert.clock import Clock
from giftcert.delivery.certificate_document import certificate_document, document_id_of
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.messaging.trace_context import context_of
from giftcert.ports import UnitOfWork
from giftcert.rendering.certificate_pdf import CertificateDocument, render_certificate_pdf
from giftcert.store.documents import StoredDocument
from giftcert.store.unit_of_work import UnitOfWorkFactory
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


def _render_all(drawings: Sequence[tuple[CertificateDocument, Context | None]], tracer: Tracer) -> list[bytes]:
    """Each document drawn in a span within its cause, all in the one worker thread this is called
    in: a thread hand-over for each PDF cost a fifth as much again as drawing it."""
    contents = []
    for document, cause in drawings:
        with tracer.start_as_current_span("render certificate pdf", context=cause) as span:
            contents.append(render_certificate_pdf(document))
            span.set_attribute("giftcert.pdf.size_bytes", len(contents[-1]))
    return contents


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


async def store_certificate_pdfs(
    events: Sequence[CertificateActivated], new_uow: UnitOfWorkFactory, clock: Clock, *,
    traces: Sequence[Mapping[str, str]] | None = None, tracer: Tracer = NO_SPANS,
) -> list[PdfReady | None]:
    """One result per event, in order: its pdf-ready, or None when the certificate had its document
    already. The PDFs are drawn outside any transaction, in a worker thread; the documents and their
    pdf-ready rows are written together in one. `traces`: each event's trace context (each drawing
    is a span within it)."""
    async with new_uow() as uow:
        documented = await uow.documents.documented({e.certificate_id for e in events})
        wanted = {e.certificate_id: e for e in events if e.certificate_id not in documented}
        certificates = await uow.certificates.get_many(wanted.keys())
        workspaces = {w: await uow.workspaces.get_or_default(w) for w in {e.workspace_id for e in wanted.values()}}
    for certificate_id, event in wanted.items():
        certificate = certificates.get(certificate_id)
        if certificate is None or certificate.workspace_id != event.workspace_id:
            raise UnknownCertificateError(f"no certificate {certificate_id} in workspace {event.workspace_id}")
    position = {e.certificate_id: p for p, e in reversed(list(enumerate(events)))}
    drawings = [
        (
            certificate_document(certificates[certificate_id], workspaces[event.workspace_id]),
            None if traces is None else context_of(traces[position[certificate_id]]),
        )
        for certificate_id, event in wanted.items()
    ]
    contents = await asyncio.to_thread(_render_all, drawings, tracer)
    async with new_uow() as uow:
        now = clock.now()
        stored = [
            StoredDocument(
                id=document_id_of(certificate_id), certificate_id=certificate_id, workspace_id=event.workspace_id,
                content=content, sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content),
                created_at=now,
            )
            for (certificate_id, event), content in zip(wanted.items(), contents, strict=True)
        ]
        written = await uow.documents.add_many(stored)
        ready = {
            d.certificate_id: PdfReady(
                workspace_id=d.workspace_id, event_id=uuid4(), occurred_at=now, certificate_id=d.certificate_id,
                document_id=d.id, sha256=d.sha256, size_bytes=d.size_bytes,
            )
            for d in stored
            if d.certificate_id in written
        }
        results = [ready.pop(e.certificate_id, None) for e in events]  # a certificate twice: one pdf-ready
        published = [(r, p) for p, r in enumerate(results) if r is not None]
        await uow.outbox.add(
            *(r for r, _ in published), traces=None if traces is None else [traces[p] for _, p in published]
        )
        await uow.commit()
    return results


async def store_certificate_pdf(
    event: CertificateActivated, new_uow: UnitOfWorkFactory, clock: Clock, *, tracer: Tracer = NO_SPANS
) -> PdfReady | None:
    (ready,) = await store_certificate_pdfs([event], new_uow, clock, tracer=tracer)
    return ready
