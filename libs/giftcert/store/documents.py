"""Certificate PDFs, stored in PostgreSQL next to the certificate: durable, backed up with the
data they belong to, and written in the same transaction as the pdf-ready outbox row."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

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


class DocumentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, document: StoredDocument) -> bool:
        """False when the certificate already has its document (nothing is written)."""
        statement = (
            insert(documents)
            .values(
                id=document.id,
                certificate_id=document.certificate_id,
                workspace_id=document.workspace_id,
                content=document.content,
                sha256=document.sha256,
                size_bytes=document.size_bytes,
                created_at=document.created_at,
            )
            .on_conflict_do_nothing(index_elements=[documents.c.certificate_id])
            .returning(documents.c.id)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def of_certificate(self, certificate_id: UUID) -> StoredDocument | None:
        query = select(documents).where(documents.c.certificate_id == certificate_id)
        row = (await self._connection.execute(query)).mappings().first()
        if row is None:
            return None
        return StoredDocument(**{**row, "content": bytes(row["content"])})
