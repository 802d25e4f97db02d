"""Certificate PDFs, stored in PostgreSQL next to the certificate: durable, backed up with the
data they belong to, and written in the same transaction as the pdf-ready outbox row."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.store.bulk import columns, insert_rows
from giftcert.store.schema import documents


@dataclass(frozen=True, slots=True)
class StoredDocument:
    id: UUID
    certificate_id: UUID
    workspace_id: str
    content: bytes
    sha256: str
    size_bytes: int
    created_at: datetime


_COLUMNS = ("id", "certificate_id", "workspace_id", "content", "sha256", "size_bytes", "created_at")
_ADD = insert_rows(documents, _COLUMNS, "ON CONFLICT (certificate_id) DO NOTHING RETURNING certificate_id")


class DocumentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, document: StoredDocument) -> bool:
        """False when the certificate already has its document (nothing is written)."""
        return document.certificate_id in await self.add_many([document])

    async def add_many(self, stored: Collection[StoredDocument]) -> set[UUID]:
        """The certificates whose document this wrote: those that had none."""
        if not stored:
            return set()
        rows = (
            (d.id, d.certificate_id, d.workspace_id, d.content, d.sha256, d.size_bytes, d.created_at) for d in stored
        )
        return {row.certificate_id for row in await self._connection.execute(_ADD, columns(rows, _COLUMNS))}

    async def documented(self, certificate_ids: Collection[UUID]) -> set[UUID]:
        """Those of the certificates that have their document."""
        if not certificate_ids:
            return set()
        query = select(documents.c.certificate_id).where(documents.c.certificate_id.in_(list(certificate_ids)))
        return set((await self._connection.execute(query)).scalars())

    async def of_certificate(self, certificate_id: UUID) -> StoredDocument | None:
        return (await self.of_certificates([certificate_id])).get(certificate_id)

    async def of_certificates(self, certificate_ids: Collection[UUID]) -> dict[UUID, StoredDocument]:
        if not certificate_ids:
            return {}
        query = select(documents).where(documents.c.certificate_id.in_(list(certificate_ids)))
        rows = (await self._connection.execute(query)).mappings()
        found = (StoredDocument(**{**r, "content": bytes(r["content"])}) for r in rows)
        return {d.certificate_id: d for d in found}
