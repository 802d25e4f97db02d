"""certificate-activated -> the certificate's PDF stored in the database -> pdf-ready.

Rendering happens in a worker thread outside any transaction; the document row and its pdf-ready
outbox row are then written together. A certificate has one document: a repeat finds it and
publishes nothing new."""

import asyncio
import hashlib
from uuid import uuid4

from giftcert.clock import Clock
from giftcert.domain.certificate_document import certificate_document, document_id_of
from giftcert.rendering.certificate_pdf import render_certificate_pdf
from giftcert.store.documents import StoredDocument
from giftcert.store.unit_of_work import UnitOfWork, UnitOfWorkFactory
from giftcert_contracts.outbound import CertificateActivated, PdfReady


class UnknownCertificateError(LookupError):
    pass


async def render_document(uow: UnitOfWork, workspace_id: str, certificate_id: object) -> bytes:
    """The PDF of a certificate, rendered anew from the store (same bytes every time)."""
    async with uow:
        certificate = await uow.certificates.get(workspace_id, certificate_id)  # type: ignore[arg-type]
        if certificate is None:
            raise UnknownCertificateError(f"no certificate {certificate_id} in workspace {workspace_id}")
        workspace = await uow.workspaces.get_or_default(workspace_id)
    return await asyncio.to_thread(render_certificate_pdf, certificate_document(certificate, workspace))


async def store_certificate_pdf(
    event: CertificateActivated, new_uow: UnitOfWorkFactory, clock: Clock
) -> PdfReady | None:
    async with new_uow() as uow:
        if await uow.documents.of_certificate(event.certificate_id) is not None:
            return None
    content = await render_document(new_uow(), event.workspace_id, event.certificate_id)
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
