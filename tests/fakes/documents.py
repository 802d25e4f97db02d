"""Certificate PDFs in memory (giftcert.store.documents): one per certificate."""

from collections.abc import Collection
from uuid import UUID

from giftcert.store.documents import StoredDocument
from tests.fakes.state import Transaction, as_stored, violation


class FakeDocumentRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add_many(self, stored: Collection[StoredDocument]) -> set[UUID]:
        return {d.certificate_id for d in stored if await self.add(d)}

    async def documented(self, certificate_ids: Collection[UUID]) -> set[UUID]:
        return {d.certificate_id for d in self._tx.state.documents.values()} & set(certificate_ids)

    async def add(self, document: StoredDocument) -> bool:
        """False when the certificate already has its document (nothing is written)."""
        state = self._tx.state
        state.require_certificate(document.certificate_id, "documents")
        if any(d.certificate_id == document.certificate_id for d in state.documents.values()):
            return False
        if document.id in state.documents:
            raise violation("documents_pkey", f"document {document.id} exists")
        state.documents[document.id] = as_stored(document)
        return True

    async def of_certificates(self, certificate_ids: Collection[UUID]) -> dict[UUID, StoredDocument]:
        wanted = set(certificate_ids)
        return {d.certificate_id: d for d in self._tx.state.documents.values() if d.certificate_id in wanted}

    async def of_certificate(self, certificate_id: UUID) -> StoredDocument | None:
        return next((d for d in self._tx.state.documents.values() if d.certificate_id == certificate_id), None)
