"""Batches are written with one set-based statement each (giftcert.store.bulk): rows keep their
order, values keep their types, and a value too long for its column is refused, never cut."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.activity import ActivityKind
from giftcert.messaging.inbox import InboxKey
from giftcert.store.activity import ActivityEntry, ActivityRepository
from giftcert.store.inbox import InboxRepository
from giftcert.store.outbox import OutboxWriter
from giftcert.store.schema import outbox
from giftcert_contracts.outbound import RedemptionRejected

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _refusal(workspace: str, n: int) -> RedemptionRejected:
    return RedemptionRejected(
        workspace_id=workspace, event_id=uuid4(), occurred_at=NOW, request_id=uuid4(), order_id=f"order-{n}",
        reason="not_found", detail=f'attempt {n} with "quotes", \\ and ünïcode',
    )


async def test_events_written_in_one_statement_keep_their_order_and_their_json(db: AsyncEngine, workspace: str) -> None:
    events = [_refusal(workspace, n) for n in range(300)]
    async with db.connect() as connection:
        await OutboxWriter(connection, source="urn:test").add(*events)
        rows = (
            await connection.execute(select(outbox).where(outbox.c.headers["ce_id"].astext.in_(
                [str(e.event_id) for e in events]
            )).order_by(outbox.c.id))
        ).all()
        await connection.rollback()
    assert [row.headers["ce_id"] for row in rows] == [str(e.event_id) for e in events]
    assert [RedemptionRejected.model_validate_json(row.payload) for row in rows] == events


async def test_a_batch_claims_each_key_once_and_keeps_each_reply(db: AsyncEngine, workspace: str) -> None:
    keys = [InboxKey("test", workspace, f"key-{n}") for n in range(50)]
    async with db.connect() as connection:
        inbox = InboxRepository(connection)
        assert await inbox.claim_many(keys[:20], NOW) == set(keys[:20])
        assert await inbox.claim_many(keys, NOW) == set(keys[20:])
        replies = [_refusal(workspace, n) for n in range(50)]
        await inbox.remember_replies(list(zip(keys, replies, strict=True)))
        stored = await inbox.stored_replies(keys, occurred_at=NOW)
        await connection.rollback()
    assert [stored[k].model_dump(exclude={"event_id"}) for k in keys] == [
        r.model_dump(exclude={"event_id"}) for r in replies
    ]


async def test_a_value_too_long_for_its_column_is_refused_not_cut(db: AsyncEngine, workspace: str) -> None:
    entry = ActivityEntry(uuid4(), workspace, ActivityKind.VOIDED, NOW, reason="r" * 501)
    async with db.connect() as connection:
        with pytest.raises(DBAPIError, match="too long"):
            await ActivityRepository(connection).add(entry)
        await connection.rollback()
