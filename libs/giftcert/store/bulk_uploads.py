"""The console's bulk uploads in PostgreSQL (decision 35), so that any API replica shows one: a row is
inserted when the file is taken, its `done` count and `updated_at` (the heartbeat of the process
issuing its rows) are written about once a second while it runs, and its summary and final state in
one last write. Only a `running` row is ever written (a finished one is never reopened). An upload is
seen only from its workspace, and is forgotten an hour after its last write (`forget`, `get`'s
`written_since`)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.store.schema import bulk_uploads


class UploadState(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    """Stopped on an error of its own: the rows issued before it stay issued."""


@dataclass(frozen=True, slots=True)
class BulkUpload:
    id: str
    workspace_id: str
    total: int
    done: int
    state: UploadState
    issued: int
    already_issued: int
    failed_rows: list[dict[str, Any]]
    """Once finished: {line, reference, reason, detail} of each row that failed, by line."""
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


def _from_row(row: RowMapping) -> BulkUpload:
    return BulkUpload(
        id=row["id"],
        workspace_id=row["workspace_id"],
        total=row["total"],
        done=row["done"],
        state=UploadState(row["state"]),
        issued=row["issued"],
        already_issued=row["already_issued"],
        failed_rows=list(row["failed_rows"] or []),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
    )


class BulkUploadRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, upload_id: str, workspace_id: str, total: int, now: datetime) -> None:
        await self._connection.execute(
            insert(bulk_uploads).values(
                id=upload_id, workspace_id=workspace_id, total=total, done=0, issued=0, already_issued=0,
                state=UploadState.RUNNING.value, created_at=now, updated_at=now,
            )
        )

    async def beat(self, upload_id: str, done: int, now: datetime) -> None:
        """The running upload's progress and heartbeat."""
        await self._connection.execute(
            update(bulk_uploads)
            .where(bulk_uploads.c.id == upload_id, bulk_uploads.c.state == UploadState.RUNNING.value)
            .values(done=done, updated_at=now)
        )

    async def finish(
        self, upload_id: str, state: UploadState, *, done: int, issued: int, already_issued: int,
        failed_rows: Sequence[Mapping[str, object]], now: datetime,
    ) -> None:
        """The summary and the final state, in one write."""
        await self._connection.execute(
            update(bulk_uploads)
            .where(bulk_uploads.c.id == upload_id, bulk_uploads.c.state == UploadState.RUNNING.value)
            .values(state=state.value, done=done, issued=issued, already_issued=already_issued,
                    failed_rows=[dict(row) for row in failed_rows], updated_at=now, finished_at=now)
        )

    async def get(self, workspace_id: str, upload_id: str, *, written_since: datetime) -> BulkUpload | None:
        """The upload, if it is this workspace's and was written to since `written_since`."""
        query = select(bulk_uploads).where(
            bulk_uploads.c.id == upload_id,
            bulk_uploads.c.workspace_id == workspace_id,
            bulk_uploads.c.updated_at >= written_since,
        )
        row = (await self._connection.execute(query)).mappings().first()
        return None if row is None else _from_row(row)

    async def forget(self, written_before: datetime, limit: int) -> int:
        """Deletes up to `limit` uploads last written before `written_before`, oldest first, skipping
        rows another transaction holds (two replicas forgetting at once never wait on each other)."""
        oldest = (
            select(bulk_uploads.c.id)
            .where(bulk_uploads.c.updated_at < written_before)
            .order_by(bulk_uploads.c.updated_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self._connection.execute(delete(bulk_uploads).where(bulk_uploads.c.id.in_(oldest)))
        return int(result.rowcount)
