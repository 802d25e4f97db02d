"""The certificate activity log: append-only, written in the transaction of the change it records."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.activity import ActivityKind
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


class ActivityRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, *entries: ActivityEntry) -> None:
        if entries:
            await self._connection.execute(
                insert(certificate_activity),
                [
                    {
                        "certificate_id": e.certificate_id,
                        "workspace_id": e.workspace_id,
                        "kind": e.kind.value,
                        "occurred_at": e.occurred_at,
                        "actor": e.actor,
                        "reason": e.reason,
                        "reference": e.reference,
                    }
                    for e in entries
                ],
            )

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
