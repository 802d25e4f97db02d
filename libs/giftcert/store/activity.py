"""The certificate activity log: append-only, written in the transaction of the change it records."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.activity import ActivityKind
from giftcert.store.bulk import Writes, columns, insert_rows
from giftcert.store.schema import certificate_activity


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    certificate_id: UUID
    workspace_id: str
    kind: ActivityKind
    occurred_at: datetime
    actor: str | None = None
    reason: str | None = None
    reference: str | None = None


_COLUMNS = ("certificate_id", "workspace_id", "kind", "occurred_at", "actor", "reason", "reference")
_ADD = insert_rows(certificate_activity, _COLUMNS)


class ActivityRepository:
    def __init__(self, connection: AsyncConnection, writes: Writes | None = None) -> None:
        self._connection = connection
        self._writes = writes or Writes(connection)

    async def add(self, *entries: ActivityEntry) -> None:
        if entries:
            rows = (
                (e.certificate_id, e.workspace_id, e.kind.value, e.occurred_at, e.actor, e.reason, e.reference)
                for e in entries
            )
            await self._writes.execute(_ADD, columns(rows, _COLUMNS))

    async def of_certificate(self, certificate_id: UUID) -> list[ActivityEntry]:
        query = (
            select(certificate_activity)
            .where(certificate_activity.c.certificate_id == certificate_id)
            .order_by(certificate_activity.c.id)
        )
        return [
            ActivityEntry(
                certificate_id=r["certificate_id"],
                workspace_id=r["workspace_id"],
                kind=ActivityKind(r["kind"]),
                occurred_at=r["occurred_at"],
                actor=r["actor"],
                reason=r["reason"],
                reference=r["reference"],
            )
            for r in (await self._connection.execute(query)).mappings()
        ]
