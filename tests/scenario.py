"""Steps the contract tests share: configure a workspace, buy and pay for a certificate."""

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.workspace import WorkspaceSettings
from giftcert.store.workspaces import WorkspaceRepository
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire


async def code_of(db: AsyncEngine, certificate_id: str | UUID) -> str:
    """What the recipient reads on the PDF (tests look it up as an operator would)."""
    async with db.connect() as connection:
        result = await connection.execute(
            text("SELECT code FROM certificates WHERE id = :id"), {"id": str(certificate_id)}
        )
        return str(result.scalar_one())


async def balance_and_available(db: AsyncEngine, certificate_id: str | UUID) -> tuple[int, int]:
    """The kept balance, and what is available (less the live holds), read from the tables."""
    async with db.connect() as connection:
        row = (await connection.execute(
            text(
                "SELECT balance_minor, balance_minor - coalesce((SELECT sum(amount_minor) FROM holds"
                " WHERE certificate_id = c.id AND state = 'live' AND expires_at > now()), 0)"
                " FROM certificates AS c WHERE id = :id"
            ),
            {"id": str(certificate_id)},
        )).one()
    return int(row[0]), int(row[1])


async def configure(db: AsyncEngine, workspace: str, **changes: Any) -> WorkspaceSettings:
    settings = WorkspaceSettings(workspace_id=workspace, name=f"Tours {workspace}", portal_enabled=True)
    settings = replace(settings, **changes)
    async with db.begin() as connection:
        await WorkspaceRepository(connection).put(settings, datetime.now(UTC))
    return settings


@dataclass
class Bought:
    certificate_id: str
    code: str
    activated: dict[str, Any]


async def request_purchase(wire: Wire, workspace: str, **purchase: Any) -> dict[str, Any]:
    """A purchase request, sent and answered with certificate-created; returns the request."""
    request = messages.purchase(workspace, **purchase)
    await wire.send(Topic.PURCHASE_REQUESTED, request)
    await wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == request["certificate_id"])
    return request


async def buy(wire: Wire, db: AsyncEngine, workspace: str, **purchase: Any) -> Bought:
    """A portal purchase and its payment, up to certificate-activated."""
    request = await request_purchase(wire, workspace, **purchase)
    cid = request["certificate_id"]
    await wire.send(
        Topic.PAYMENT_COMPLETED, messages.payment(workspace, cid, amount=request["amount"])
    )
    (activated,) = await wire.wait_for(Topic.CERTIFICATE_ACTIVATED, lambda b: b["certificate_id"] == cid)
    return Bought(cid, await code_of(db, cid), activated.body)


async def first_reply(wire: Wire, topics: tuple[Topic, ...], request_id: str) -> tuple[Topic, dict[str, Any]]:
    """The reply to the request `request_id` on whichever of `topics` (its decisions) carries it first."""
    waits = {
        asyncio.ensure_future(wire.wait_for(topic, lambda b: b.get("request_id") == request_id)): topic
        for topic in topics
    }
    finished, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    for task in pending:
        task.cancel()
    assert finished, f"no reply to {request_id} on {topics}"
    task = next(iter(finished))
    (record,) = task.result()
    return waits[task], record.body
