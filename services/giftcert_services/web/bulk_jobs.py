"""The console's bulk uploads as jobs of the API process: a file is read and checked at once (a bad
file issues nothing), then its rows are issued in the background while the upload's page follows
them (rows done of rows, by polling) and shows the per-line report when they are all decided.

A job lives in the process that took the upload, for an hour after it ends; behind several API
replicas its page must reach that replica (sticky sessions), or the operator uploads the file again:
a row's reference is its idempotency key, so nothing is issued twice. A process stopped mid-upload
keeps what it issued; the same file uploaded again issues the rest."""

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field

from giftcert_services.cli.bulk_issue import BulkIssueSummary, CsvRow, issue_rows
from giftcert_services.runtime.bootstrap import Dependencies

log = logging.getLogger(__name__)
KEEP_SECONDS = 3600.0
MAX_JOBS = 200


@dataclass
class BulkJob:
    id: str
    workspace_id: str
    total: int
    done: int = 0
    summary: BulkIssueSummary | None = None
    failed: bool = False
    """The job stopped on an error of its own (logged); the rows issued before it stay issued."""
    finished_at: float | None = None
    task: "asyncio.Task[None] | None" = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def advance(self) -> None:
        self.done += 1


class BulkJobs:
    """The jobs of this process, by their unguessable id; each is seen only from its workspace."""

    def __init__(self) -> None:
        self._jobs: dict[str, BulkJob] = {}

    def start(self, workspace_id: str, rows: list[CsvRow], deps: Dependencies) -> BulkJob:
        self._forget_old()
        job = BulkJob(secrets.token_urlsafe(16), workspace_id, len(rows))
        job.task = asyncio.create_task(self._run(job, rows, deps), name=f"bulk-upload-{job.id}")
        self._jobs[job.id] = job
        return job

    def get(self, workspace_id: str, job_id: str) -> BulkJob | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.workspace_id == workspace_id else None

    @staticmethod
    async def _run(job: BulkJob, rows: list[CsvRow], deps: Dependencies) -> None:
        try:
            job.summary = await issue_rows(rows, job.workspace_id, deps, on_row_done=job.advance)
        except Exception:
            log.exception("bulk upload %s of workspace %s stopped", job.id, job.workspace_id)
            job.failed = True
        finally:
            job.finished_at = time.monotonic()

    def _forget_old(self) -> None:
        now = time.monotonic()
        for job_id, job in list(self._jobs.items()):
            if job.finished_at is not None and now - job.finished_at > KEEP_SECONDS:
                del self._jobs[job_id]
        while len(self._jobs) >= MAX_JOBS:  # the oldest finished first; a running job is never dropped
            finished = [j for j in self._jobs.values() if j.finished_at is not None]
            if not finished:
                break
            del self._jobs[min(finished, key=lambda j: j.finished_at or 0.0).id]
