"""The console's bulk uploads: a file is read and checked at once (a bad file issues nothing), then
its rows are issued by a task of the API process that took it, while the upload's page follows them
(rows done of rows, by polling) and shows the per-line report when they are all decided.

The upload's state lives in PostgreSQL (store/bulk_uploads.py, decision 35), so its page and its
progress answer from any API replica: the task writes the rows done and its heartbeat about once a
second (HEARTBEAT_SECONDS, not once per row), and the summary and final state in one last write. A
running upload whose heartbeat is older than STOPPED_AFTER is shown as stopped on an error (its
process ended mid-upload): it keeps what it issued, and the same file uploaded again issues the rest,
since a row's reference is its idempotency key. Uploads are forgotten an hour after their last write;
each new upload deletes the old ones."""

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from giftcert.store.bulk_uploads import BulkUpload, UploadState
from giftcert_services.cli.bulk_issue import BulkIssueSummary, CsvRow, FailedRow, issue_rows
from giftcert_services.runtime.bootstrap import Dependencies

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 1.0
STOPPED_AFTER = timedelta(seconds=30)
"""Thirty missed heartbeats: the process issuing the rows is gone (a restart, a crash)."""
KEPT_FOR = timedelta(hours=1)
FORGOTTEN_AT_ONCE = 100
"""Old uploads deleted by each new one: far more than one upload leaves behind."""


@dataclass(frozen=True, slots=True)
class BulkReport:
    issued: int
    already_issued: int
    failed: list[FailedRow]


@dataclass(frozen=True, slots=True)
class BulkJob:
    """An upload as its page shows it."""

    id: str
    total: int
    done: int
    summary: BulkReport | None
    failed: bool
    """The upload stopped on an error of its own (logged) or its process ended; the rows issued
    before it stay issued."""

    @property
    def finished(self) -> bool:
        return self.summary is not None or self.failed

    @classmethod
    def of(cls, upload: BulkUpload, *, stopped: bool) -> "BulkJob":
        summary = None
        if upload.state is UploadState.FINISHED:
            failed = [FailedRow(int(f["line"]), str(f["reference"]), str(f["reason"]), str(f["detail"]))
                      for f in upload.failed_rows]
            summary = BulkReport(upload.issued, upload.already_issued, failed)
        return cls(upload.id, upload.total, upload.done, summary, upload.state is UploadState.FAILED or stopped)


class BulkJobs:
    """Starts uploads and reads them back by their unguessable id, each only from its workspace."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()  # the running tasks, held until they end

    async def start(self, workspace_id: str, rows: list[CsvRow], deps: Dependencies) -> str:
        upload_id = secrets.token_urlsafe(16)
        now = deps.clock.now()
        async with deps.new_uow() as uow:
            await uow.bulk_uploads.forget(now - KEPT_FOR, FORGOTTEN_AT_ONCE)
            await uow.bulk_uploads.add(upload_id, workspace_id, len(rows), now)
            await uow.commit()
        task = asyncio.create_task(_run(upload_id, workspace_id, rows, deps), name=f"bulk-upload-{upload_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return upload_id

    @staticmethod
    async def get(workspace_id: str, upload_id: str, deps: Dependencies) -> BulkJob | None:
        now = deps.clock.now()
        async with deps.new_uow() as uow:
            upload = await uow.bulk_uploads.get(workspace_id, upload_id, written_since=now - KEPT_FOR)
        if upload is None:
            return None
        stopped = upload.state is UploadState.RUNNING and now - upload.updated_at > STOPPED_AFTER
        return BulkJob.of(upload, stopped=stopped)


async def _run(upload_id: str, workspace_id: str, rows: list[CsvRow], deps: Dependencies) -> None:
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1

    issuing = asyncio.create_task(issue_rows(rows, workspace_id, deps, on_row_done=advance))
    summary: BulkIssueSummary | None = None
    try:
        while not issuing.done():
            await asyncio.wait({issuing}, timeout=HEARTBEAT_SECONDS)
            if not issuing.done():
                await _beat(upload_id, done, deps)
        summary = issuing.result()
    except Exception:
        log.exception("bulk upload %s of workspace %s stopped", upload_id, workspace_id)
    finally:
        issuing.cancel()  # when this task is cancelled (the process stops), the rows and the heartbeat stop
    await _finish(upload_id, done, summary, deps)


async def _beat(upload_id: str, done: int, deps: Dependencies) -> None:
    """A heartbeat that fails is logged and made up by the next one."""
    try:
        async with deps.new_uow() as uow:
            await uow.bulk_uploads.beat(upload_id, done, deps.clock.now())
            await uow.commit()
    except Exception:
        log.exception("bulk upload %s: a heartbeat was not written", upload_id)


async def _finish(upload_id: str, done: int, summary: BulkIssueSummary | None, deps: Dependencies) -> None:
    """The summary (None: the upload failed) and final state in one write. When it fails, the row stays
    running without a heartbeat, and is shown as stopped after STOPPED_AFTER."""
    try:
        async with deps.new_uow() as uow:
            if summary is None:
                await uow.bulk_uploads.finish(upload_id, UploadState.FAILED, done=done, issued=0, already_issued=0,
                                              failed_rows=[], now=deps.clock.now())
            else:
                await uow.bulk_uploads.finish(
                    upload_id, UploadState.FINISHED, done=done, issued=len(summary.issued),
                    already_issued=len(summary.already_issued), failed_rows=summary.as_json()["failed"],
                    now=deps.clock.now(),
                )
            await uow.commit()
    except Exception:
        log.exception("bulk upload %s: its summary was not written", upload_id)
