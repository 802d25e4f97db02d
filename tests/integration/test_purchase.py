"""purchase-requested: certificate-created (pending) or purchase-rejected; repeats answer alike."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.scenario import configure, request_purchase

pytestmark = pytest.mark.integration


async def test_portal_purchase_creates_a_pending_certificate_with_its_activity(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, expiry_days=200)
    request = messages.purchase(workspace)
    await wire.send(Topic.PURCHASE_REQUESTED, request)
    (created,) = await wire.wait_for(
        Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == request["certificate_id"]
    )
    assert created.body["amount"] == {"minor": 5000, "currency": "EUR"}
    assert created.body["channel"] == "portal"
    assert created.body["expires_in_days"] == 200
    assert created.key == request["certificate_id"].encode()
    async with db.connect() as connection:
        status = (await connection.execute(
            text("SELECT status FROM certificates WHERE id = :id"), {"id": request["certificate_id"]}
        )).scalar_one()
        kinds = (await connection.execute(
            text("SELECT kind FROM certificate_activity WHERE certificate_id = :id ORDER BY id"),
            {"id": request["certificate_id"]},
        )).scalars().all()
    assert status == "pending"
    assert kinds == ["created", "purchased_from_portal"]


@pytest.mark.parametrize(
    ("workspace_changes", "purchase_changes", "reason"),
    [
        ({"portal_enabled": False}, {}, "portal_disabled"),
        ({}, {"amount": {"minor": 999, "currency": "EUR"}}, "amount_out_of_range"),
        ({}, {"amount": {"minor": 100001, "currency": "EUR"}}, "amount_out_of_range"),
        ({}, {"amount": {"minor": 5000, "currency": "USD"}}, "currency_not_supported"),
    ],
)
async def test_purchase_outside_the_workspace_settings_is_rejected_with_its_reason(
    wire: Wire, db: AsyncEngine, workspace: str, workspace_changes: dict, purchase_changes: dict, reason: str
) -> None:
    await configure(db, workspace, **workspace_changes)
    request = messages.purchase(workspace, **purchase_changes)
    await wire.send(Topic.PURCHASE_REQUESTED, request)
    (rejected,) = await wire.wait_for(
        Topic.PURCHASE_REJECTED, lambda b: b["certificate_id"] == request["certificate_id"]
    )
    assert rejected.body["reason"] == reason
    assert rejected.body["detail"]


async def test_admin_purchase_is_accepted_while_the_portal_is_disabled(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, portal_enabled=False)
    request = messages.purchase(workspace, channel="admin")
    await wire.send(Topic.PURCHASE_REQUESTED, request)
    (created,) = await wire.wait_for(
        Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == request["certificate_id"]
    )
    assert created.body["channel"] == "admin"


async def test_repeated_purchase_request_republishes_the_same_decision_with_a_new_event_id(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    request = await request_purchase(wire, workspace)
    await wire.send(Topic.PURCHASE_REQUESTED, request)
    first, second = await wire.wait_for(
        Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == request["certificate_id"], count=2
    )
    assert first.body["event_id"] != second.body["event_id"]
    renewed = {"event_id", "occurred_at", "sequence"}  # a repeat takes the certificate's next number
    same = {k: v for k, v in first.body.items() if k not in renewed}
    assert same == {k: v for k, v in second.body.items() if k not in renewed}
    assert second.body["sequence"] > first.body["sequence"]
    async with db.connect() as connection:
        count = (await connection.execute(
            text("SELECT count(*) FROM certificates WHERE id = :id"), {"id": request["certificate_id"]}
        )).scalar_one()
    assert count == 1


async def test_a_certificate_id_already_used_in_another_workspace_is_rejected_as_invalid(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    await configure(db, f"{workspace}-other")
    request = await request_purchase(wire, workspace)
    await wire.send(Topic.PURCHASE_REQUESTED, request | {"workspace_id": f"{workspace}-other"})
    (rejected,) = await wire.wait_for(
        Topic.PURCHASE_REJECTED, lambda b: b["certificate_id"] == request["certificate_id"]
    )
    assert rejected.body["reason"] == "invalid"
    assert rejected.body["workspace_id"] == f"{workspace}-other"
