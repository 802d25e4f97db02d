"""A bulk upload lives in PostgreSQL (decision 35): two API replicas on one database, behind a load
balancer without sticky sessions, each show the upload the other took; an upload whose process
stopped is shown as stopped; one workspace never sees another's; uploads are forgotten after an hour."""

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select

from giftcert.settings import Settings
from giftcert.store.bulk_uploads import UploadState
from giftcert.store.schema import bulk_uploads
from giftcert_services.api.app import build_api
from giftcert_services.cli.bulk_issue import BulkIssueSummary, CsvRow
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap
from giftcert_services.web import bulk_jobs
from giftcert_services.web.config import WebSettings
from giftcert_services.web.pages import Web
from tests.web.conftest import ORIGIN, Shop, csrf_token, sign_in

pytestmark = pytest.mark.integration
HEADER = "reference,amount_minor,purchaser_name,purchaser_email,recipient_name,recipient_email,payment_reference\n"
STOPPED_TEXT = "The upload stopped on an error; upload the file again to issue the rest."


@dataclass
class Replicas:
    first: httpx.AsyncClient
    second: httpx.AsyncClient
    """The same browser (its cookies) reaching the other replica."""
    second_deps: Dependencies


@pytest.fixture
async def replicas(api_settings: Settings, api_deps: Dependencies, shop: Shop) -> AsyncIterator[Replicas]:
    """Two API apps on one database, each with its own pool (as two processes), sharing the console's
    session secret as the deployment's replicas do."""
    web = WebSettings(console_session_secret=SecretStr(secrets.token_urlsafe(32)))
    second_deps = bootstrap(api_settings)
    apps: list[FastAPI] = []
    for deps in (api_deps, second_deps):
        app = build_api(api_settings, deps=deps)
        app.state.web = Web.of(web)
        apps.append(app)
    try:
        async with _client(apps[0]) as first:
            await sign_in(first, shop)
            async with _client(apps[1], first.cookies) as second:
                yield Replicas(first, second, second_deps)
    finally:
        await second_deps.close()


def _client(app: FastAPI, cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers={"Origin": ORIGIN}, cookies=cookies)


async def _upload(client: httpx.AsyncClient, shop: Shop, rows: list[str]) -> str:
    page = await client.get(f"/console/{shop.workspace}/bulk")
    uploaded = await client.post(
        f"/console/{shop.workspace}/bulk", data={"csrf_token": csrf_token(page.text)},
        files={"file": ("bulk.csv", (HEADER + "\n".join(rows) + "\n").encode(), "text/csv")},
    )
    assert uploaded.status_code == 303, uploaded.text
    return str(uploaded.headers["location"])


async def _progress_until(
    client: httpx.AsyncClient, job: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    for _ in range(300):
        answer = await client.get(f"{job}/progress")
        assert answer.status_code == 200, answer.text  # never "No such upload"
        progress: dict[str, Any] = answer.json()
        if done(progress):
            return progress
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached: {progress}")


def _summary(html: str) -> str:
    shown = html.split('id="bulk-summary"')[1].split("</dl>", maxsplit=1)[0]
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", shown))


async def test_an_upload_taken_by_one_api_replica_is_followed_on_another(replicas: Replicas, shop: Shop) -> None:
    rows = [f"x{n},{1000 + n},Pat,pat@example.com,Sam {n},sam{n}@example.com,bank-{n}" for n in range(12)]
    rows[3] = "x3,12,Pat,pat@example.com,Sam,sam@example.com,bank-3"  # under the workspace's minimum
    job = await _upload(replicas.first, shop, rows)

    page = await replicas.second.get(job)
    assert page.status_code == 200, page.text
    progress = await _progress_until(replicas.second, job, lambda p: p["finished"])
    assert progress | {"text": None} == {"done": 12, "total": 12, "finished": True, "text": None}

    reports = [await client.get(job) for client in (replicas.second, replicas.first)]
    for report in reports:
        assert report.status_code == 200, report.text
        assert "data-progress-url" not in report.text
        assert _summary(report.text).endswith("Issued11Alreadyissued0Failed1")
        assert "<td>5</td><td>x3</td><td>amount_out_of_range</td>" in report.text
    assert STOPPED_TEXT not in reports[0].text


async def test_a_running_uploads_progress_is_written_while_it_runs_and_read_on_another_replica(
    replicas: Replicas, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()

    async def three_rows_then_wait(
        rows: list[CsvRow], workspace_id: str, deps: Dependencies, on_row_done: Callable[[], None]
    ) -> BulkIssueSummary:
        for _ in range(3):
            on_row_done()
        await release.wait()
        for _ in rows[3:]:
            on_row_done()
        return BulkIssueSummary()

    monkeypatch.setattr(bulk_jobs, "issue_rows", three_rows_then_wait)
    monkeypatch.setattr(bulk_jobs, "HEARTBEAT_SECONDS", 0.05)
    job = await _upload(replicas.first, shop, [f"y{n},1000,Pat,pat@example.com,Sam,sam@example.com," for n in range(5)])

    running = await _progress_until(replicas.second, job, lambda p: p["done"] == 3)
    assert running["finished"] is False
    assert 'data-progress-url="' in (await replicas.second.get(job)).text  # the page keeps following it
    release.set()
    finished = await _progress_until(replicas.second, job, lambda p: p["finished"])
    assert (finished["done"], finished["total"]) == (5, 5)


async def test_a_running_upload_whose_heartbeat_stopped_is_shown_as_stopped(replicas: Replicas, shop: Shop) -> None:
    deps = replicas.second_deps
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        await uow.bulk_uploads.add("heartbeat-stopped", shop.workspace, 10, now - timedelta(seconds=40))
        await uow.bulk_uploads.beat("heartbeat-stopped", 4, now - bulk_jobs.STOPPED_AFTER - timedelta(seconds=1))
        await uow.bulk_uploads.add("heartbeat-beating", shop.workspace, 10, now - timedelta(seconds=40))
        await uow.bulk_uploads.beat("heartbeat-beating", 4, now)
        await uow.commit()
    base = f"/console/{shop.workspace}/bulk"

    stopped = await replicas.first.get(f"{base}/heartbeat-stopped")
    assert stopped.status_code == 200, stopped.text
    assert STOPPED_TEXT in stopped.text
    assert "data-progress-url" not in stopped.text
    assert (await replicas.first.get(f"{base}/heartbeat-stopped/progress")).json() | {"text": None} == {
        "done": 4, "total": 10, "finished": True, "text": None}

    beating = await replicas.first.get(f"{base}/heartbeat-beating")
    assert STOPPED_TEXT not in beating.text
    assert "data-progress-url" in beating.text
    assert (await replicas.first.get(f"{base}/heartbeat-beating/progress")).json()["finished"] is False


async def test_an_upload_of_another_workspace_is_not_found(replicas: Replicas, shop: Shop) -> None:
    deps = replicas.second_deps
    async with deps.new_uow() as uow:
        await uow.bulk_uploads.add("of-another-workspace", f"{shop.workspace}-other", 3, deps.clock.now())
        await uow.bulk_uploads.add("of-this-workspace", shop.workspace, 3, deps.clock.now())
        await uow.commit()
    base = f"/console/{shop.workspace}/bulk"

    assert (await replicas.first.get(f"{base}/of-another-workspace")).status_code == 404
    assert (await replicas.first.get(f"{base}/of-another-workspace/progress")).status_code == 404
    assert (await replicas.first.get(f"{base}/of-this-workspace")).status_code == 200


async def test_an_upload_is_forgotten_an_hour_after_it_ended_and_deleted_by_the_next_upload(
    replicas: Replicas, shop: Shop
) -> None:
    deps = replicas.second_deps
    long_ago = deps.clock.now() - bulk_jobs.KEPT_FOR - timedelta(minutes=1)
    async with deps.new_uow() as uow:
        await uow.bulk_uploads.add("ended-long-ago", shop.workspace, 1, long_ago)
        await uow.bulk_uploads.finish("ended-long-ago", UploadState.FINISHED, done=1, issued=1, already_issued=0,
                                      failed_rows=[], now=long_ago)
        await uow.commit()

    assert (await replicas.first.get(f"/console/{shop.workspace}/bulk/ended-long-ago")).status_code == 404
    job = await _upload(replicas.second, shop, ["z1,1000,Pat,pat@example.com,Sam,sam@example.com,"])
    await _progress_until(replicas.second, job, lambda p: p["finished"])
    async with deps.engine.connect() as connection:
        left = await connection.scalar(
            select(func.count()).select_from(bulk_uploads).where(bulk_uploads.c.id == "ended-long-ago"))
    assert left == 0


async def test_a_late_heartbeat_never_reopens_a_finished_upload(replicas: Replicas, shop: Shop) -> None:
    deps = replicas.second_deps
    now = deps.clock.now()
    async with deps.new_uow() as uow:
        await uow.bulk_uploads.add("finished-then-beaten", shop.workspace, 2, now)
        await uow.bulk_uploads.finish("finished-then-beaten", UploadState.FINISHED, done=2, issued=1, already_issued=1,
                                      failed_rows=[], now=now)
        await uow.bulk_uploads.beat("finished-then-beaten", 1, now + timedelta(seconds=1))
        await uow.bulk_uploads.finish("finished-then-beaten", UploadState.FAILED, done=1, issued=0, already_issued=0,
                                      failed_rows=[], now=now + timedelta(seconds=1))
        await uow.commit()
        upload = await uow.bulk_uploads.get(shop.workspace, "finished-then-beaten", written_since=now)
    assert upload is not None
    assert (upload.state, upload.done, upload.issued, upload.already_issued) == (UploadState.FINISHED, 2, 1, 1)
    assert upload.updated_at == upload.finished_at == now
