"""Holds across two ledger processes (contract v2): 20 concurrent holds of one certificate in
`partial` mode never hold more than its balance, and a capture racing a release and a tick's
expiry of one hold: exactly one ends it. The test holds the certificate's row while the requests
come, until both ledgers wait for it (as tests/e2e/test_workers.py does for redeems)."""

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import Launcher, Worker
from tests.e2e.locks import sessions_waiting_for_a_lock
from tests.reliability import Recorder
from tests.scenario import buy, configure

pytestmark = [pytest.mark.e2e, pytest.mark.reliability, pytest.mark.timeout(300)]


def _answering(request_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: body["request_id"] == request_id


async def _two_ledgers(launch: Launcher) -> list[Worker]:
    first = await launch("ledger").wait_until_started()
    await launch("relay", "expiry").wait_until_started()
    second = await launch("ledger").wait_until_started()
    await first.wait_for_output(r"booking-hold-request .*assigned to partitions", count=2)
    return [first, second]


async def test_twenty_concurrent_holds_of_one_certificate_over_two_ledgers_never_hold_more_than_its_balance(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, reliability: Recorder
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    ledgers = await _two_ledgers(launch)
    bought = await buy(wire, db, workspace)  # EUR 50
    attempts = [
        requests.hold(workspace, bought.code, amount={"minor": 1000, "currency": "EUR"}, order_id=f"trip-{n}")
        for n in range(20)
    ]
    asked = {body["request_id"] for body in attempts}
    async with db.connect() as holder, holder.begin():
        await holder.execute(
            text("SELECT 1 FROM certificates WHERE id = :id FOR UPDATE"), {"id": bought.certificate_id}
        )
        await asyncio.gather(
            *(wire.send(Topic.BOOKING_HOLD_REQUEST, body, key=body["request_id"]) for body in attempts)
        )
        await sessions_waiting_for_a_lock(db, 2)
    await wire.wait_for(Topic.HOLD_PLACED, lambda b: b["request_id"] in asked, count=5)
    await wire.wait_for(Topic.HOLD_REJECTED, lambda b: b["request_id"] in asked, count=15)
    await wire.quiet(2)

    placed = [r.body for r in wire.on(Topic.HOLD_PLACED) if r.body["request_id"] in asked]
    refused = [r.body for r in wire.on(Topic.HOLD_REJECTED) if r.body["request_id"] in asked]
    assert len(placed) == 5
    assert sorted(p["available_after"]["minor"] for p in placed) == [0, 1000, 2000, 3000, 4000]
    assert {r["reason"] for r in refused} == {"insufficient_balance"}
    async with db.connect() as connection:
        held = (await connection.execute(
            text("SELECT sum(amount_minor) FROM holds WHERE certificate_id = :id AND state = 'live'"),
            {"id": bought.certificate_id},
        )).scalar_one()
    assert held == 5000
    for worker in ledgers:
        assert re.search(r"\.booking-hold-request .*- Processed", worker.output), "a ledger handled none"
    reliability.record(
        "20 concurrent holds of one certificate over two ledger processes", injected=20,
        invariants=["never more held than the balance", "15 insufficient_balance"],
    )


async def test_ten_concurrent_holds_of_different_certificates_for_one_order_over_two_ledgers_never_exceed_its_total(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, reliability: Recorder
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    await _two_ledgers(launch)
    certificates = [await buy(wire, db, workspace) for _ in range(10)]  # EUR 50 each
    order = {"order_id": f"trip-{workspace}", "order_total": {"minor": 10000, "currency": "EUR"}}
    attempts = [
        requests.hold(workspace, c.code, amount={"minor": 3000, "currency": "EUR"}, **order) for c in certificates
    ]
    asked = {body["request_id"] for body in attempts}
    # The test holds the ten certificates' rows until two ledger sessions wait (one for a row, the other
    # for the order's lock or a row): the holds are decided while others are in flight.
    async with db.connect() as holder, holder.begin():
        await holder.execute(
            text("SELECT 1 FROM certificates WHERE id = ANY(CAST(:ids AS uuid[])) FOR UPDATE"),
            {"ids": [c.certificate_id for c in certificates]},
        )
        await asyncio.gather(
            *(wire.send(Topic.BOOKING_HOLD_REQUEST, body, key=body["request_id"]) for body in attempts)
        )
        await sessions_waiting_for_a_lock(db, 2, statement="%")
    await wire.wait_for(Topic.HOLD_PLACED, lambda b: b["request_id"] in asked, count=3)
    await wire.wait_for(Topic.HOLD_REJECTED, lambda b: b["request_id"] in asked, count=7)
    await wire.quiet(2)

    placed = [r.body for r in wire.on(Topic.HOLD_PLACED) if r.body["request_id"] in asked]
    refused = [r.body for r in wire.on(Topic.HOLD_REJECTED) if r.body["request_id"] in asked]
    assert sum(p["amount_held"]["minor"] for p in placed) == 9000
    assert {r["reason"] for r in refused} == {"exceeds_order_due"}
    async with db.connect() as connection:
        held = (await connection.execute(
            text(
                "SELECT sum(amount_minor) FROM holds WHERE workspace_id = :ws AND order_id = :order"
                " AND state = 'live'"
            ),
            {"ws": workspace, "order": order["order_id"]},
        )).scalar_one()
    assert held == 9000  # three of 30: never more than the order's 100
    reliability.record(
        "10 concurrent holds of different certificates for one order over two ledger processes", injected=10,
        invariants=["never more held than the order's total", "7 exceeds_order_due"],
    )


async def test_a_capture_a_release_and_a_ticks_expiry_of_one_hold_over_two_ledgers_one_wins(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, reliability: Recorder
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    await _two_ledgers(launch)
    rounds = 3
    winners = []
    for _ in range(rounds):
        bought = await buy(wire, db, workspace)
        hold = requests.hold(workspace, bought.code, amount={"minor": 2000, "currency": "EUR"}, hold_seconds=600)
        await wire.send(Topic.BOOKING_HOLD_REQUEST, hold)
        (placed,) = await wire.wait_for(Topic.HOLD_PLACED, _answering(hold["request_id"]))
        hold_id = placed.body["hold_id"]
        capture = requests.capture(workspace, hold_id)
        release = requests.release(workspace, hold_id)
        later = (datetime.now(UTC) + timedelta(minutes=11)).isoformat()
        async with db.connect() as holder, holder.begin():
            await holder.execute(
                text("SELECT 1 FROM certificates WHERE id = :id FOR UPDATE"), {"id": bought.certificate_id}
            )
            await wire.send(Topic.BOOKING_CAPTURE_REQUEST, capture)
            await wire.send(Topic.BOOKING_RELEASE_REQUEST, release)
            await wire.send(Topic.EXPIRY_TICK, requests.tick(workspace, later))
            await sessions_waiting_for_a_lock(db, 2)
            await asyncio.sleep(0.5)  # the tick's batch skips the held row, then waits for it
        await wire.quiet(3)
        won = [
            *(("capture", r) for r in wire.on(Topic.CERTIFICATE_REDEEMED) if r.body.get("hold_id") == hold_id),
            *(("release", r) for r in wire.on(Topic.HOLD_RELEASED) if r.body["request_id"] == release["request_id"]),
            *(("expiry", r) for r in wire.on(Topic.HOLD_EXPIRED) if r.body["hold_id"] == hold_id),
        ]
        assert len(won) == 1, [w for w, _ in won]
        winners.append(won[0][0])
        async with db.connect() as connection:
            ends = (await connection.execute(
                text("SELECT count(*) FROM ledger_entries WHERE certificate_id = :id AND request_id = :end"),
                {"id": bought.certificate_id, "end": f"{hold_id}:end"},
            )).scalar_one()
        assert ends == 1
    reliability.record(
        "a capture, a release and a tick's expiry of one hold over two ledger processes", injected=rounds * 3,
        invariants=["exactly one ends the hold", "one end entry in the ledger"],
    )
