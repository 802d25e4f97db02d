"""The guarantees that only separate processes can show: concurrency across ledger workers, and
crashes at the two dangerous moments (after the database commit, before the relay publishes), and
a worker stopped while a handler is still busy."""

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.codes import display_code
from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Received, Wire
from giftcert_services.runtime.failpoints import EXIT_CODE
from tests.e2e.conftest import Launcher
from tests.e2e.locks import sessions_waiting_for_a_lock
from tests.e2e.offsets import committed_offsets
from tests.reliability import Recorder
from tests.scenario import buy, configure, request_purchase

pytestmark = [pytest.mark.e2e, pytest.mark.reliability, pytest.mark.timeout(300)]


def _about(records: list[Received], certificate_id: str) -> list[Received]:
    return [r for r in records if r.body.get("certificate_id") == certificate_id]


def _processed(topic: Topic) -> str:
    return rf"\.{topic.value} .*- Processed"



async def test_exactly_one_of_20_concurrent_redeems_succeeds_across_two_ledger_processes_and_no_log_shows_the_code(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, reliability: Recorder
) -> None:
    await configure(db, workspace)
    first = await launch("ledger").wait_until_started()
    await launch("relay").wait_until_started()
    second = await launch("ledger").wait_until_started()
    # the first worker gave up one of the two partitions when the second joined
    await first.wait_for_output(r"booking-redeem-request .*assigned to partitions", count=2)
    bought = await buy(wire, db, workspace)

    attempts = [requests.redeem(workspace, bought.code) for _ in range(20)]
    asked = {body["request_id"] for body in attempts}
    # The test holds the certificate's row while the requests come, until both ledgers wait for it:
    # each has read, or is about to read, the still active certificate in a transaction of its own.
    async with db.connect() as holder, holder.begin():
        await holder.execute(
            text("SELECT 1 FROM certificates WHERE id = :id FOR UPDATE"), {"id": bought.certificate_id}
        )
        await asyncio.gather(
            *(wire.send(Topic.BOOKING_REDEEM_REQUEST, body, key=body["request_id"]) for body in attempts)
        )
        await sessions_waiting_for_a_lock(db, 2)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] in asked)
    await wire.wait_for(Topic.REDEMPTION_REJECTED, lambda b: b["request_id"] in asked, count=18)
    await wire.quiet(2)

    redeemed = [r for r in wire.on(Topic.CERTIFICATE_REDEEMED) if r.body["request_id"] in asked]
    refused = [r for r in wire.on(Topic.REDEMPTION_REJECTED) if r.body["request_id"] in asked]
    assert len(redeemed) == 1, [r.body["request_id"] for r in redeemed]
    assert {r.body["reason"] for r in refused} == {"already_redeemed"}
    assert {redeemed[0].body["request_id"], *(r.body["request_id"] for r in refused)} == asked
    for worker in (first, second):
        assert re.search(_processed(Topic.BOOKING_REDEEM_REQUEST), worker.output), "a worker handled none"
    spellings = {bought.code, display_code(bought.code), display_code(bought.code).lower()}
    for worker in launch.workers:  # a code is a bearer secret: never in a log line
        assert not [spelling for spelling in spellings if spelling in worker.output]
    reliability.record(
        "20 concurrent redeems of one code over two ledger processes", injected=20,
        invariants=["exactly one redemption", "19 already_redeemed", "no code in any log"],
    )


async def test_a_ledger_killed_between_its_database_commit_and_its_offset_commit_changes_nothing_twice(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path, reliability: Recorder
) -> None:
    await configure(db, workspace)
    await launch("documents", "mailer", "relay").wait_until_started()
    doomed = await launch("ledger", failpoints="after_db_commit@payment-completed").wait_until_started()
    purchase = await request_purchase(wire, workspace)
    cid = purchase["certificate_id"]
    await wire.send(Topic.PAYMENT_COMPLETED, requests.payment(workspace, cid, amount=purchase["amount"]))
    assert await doomed.wait_for_exit() == EXIT_CODE

    successor = await launch("ledger").wait_until_started()
    await successor.wait_for_output(_processed(Topic.PAYMENT_COMPLETED))  # the payment came again
    await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid)
    await wire.quiet(3)

    for topic in (Topic.CERTIFICATE_ACTIVATED, Topic.PDF_READY, Topic.CERTIFICATE_SENT):
        assert len(_about(wire.on(topic), cid)) == 1, topic
    assert not wire.on(Topic.PAYMENT_REJECTED)
    assert len(list(mail_folder.glob(f"*certificate-{cid}*.eml"))) == 1
    async with db.connect() as connection:
        kinds = (await connection.execute(
            text("SELECT kind FROM certificate_activity WHERE certificate_id = :id ORDER BY id"), {"id": cid}
        )).scalars().all()
    assert kinds == ["created", "purchased_from_portal", "purchased", "activated_from_portal", "sent"]
    reliability.record(
        "ledger killed between its database commit and its offset commit", injected=1,
        invariants=["one activation, PDF and email", "activity log once", "no payment refused"],
    )


async def test_an_event_whose_relay_died_before_publishing_is_published_after_restart(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, reliability: Recorder
) -> None:
    await configure(db, workspace)
    await launch("ledger").wait_until_started()
    doomed = await launch("relay", failpoints="relay_before_publish").wait_until_started()
    purchase = requests.purchase(workspace)
    cid = purchase["certificate_id"]
    await wire.send(Topic.PURCHASE_REQUESTED, purchase)
    assert await doomed.wait_for_exit() == EXIT_CODE
    await wire.quiet(1)
    assert not _about(wire.on(Topic.CERTIFICATE_CREATED), cid)

    await launch("relay").wait_until_started()
    await wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == cid)
    await wire.quiet(2)
    assert len(_about(wire.on(Topic.CERTIFICATE_CREATED), cid)) == 1
    reliability.record(
        "relay killed before publishing", injected=1, invariants=["the event published after restart, once"]
    )


async def test_a_worker_stopped_while_a_handler_is_busy_leaves_that_message_uncommitted(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, settings: Settings, reliability: Recorder
) -> None:
    await configure(db, workspace)
    await launch("relay").wait_until_started()
    busy = await launch("ledger", failpoints="stall_before_handler@void").wait_until_started()
    bought = await buy(wire, db, workspace)
    void = requests.void(workspace, bought.certificate_id)
    await wire.send(Topic.VOID, void, key=bought.certificate_id)
    await busy.wait_for_output("failpoint stall_before_handler@void reached")

    assert busy.stop() == 0  # SIGTERM: a graceful stop, the handler cancelled after the grace period
    # the void request is the topic's only message (offset 0): a commit of it would read 1
    assert not any((await committed_offsets(settings, "ledger", Topic.VOID)).values())
    assert not wire.on(Topic.CERTIFICATE_VOIDED)

    await launch("ledger").wait_until_started()
    (voided,) = await wire.wait_for(Topic.CERTIFICATE_VOIDED, lambda b: b["request_id"] == void["request_id"])
    assert voided.body["certificate_id"] == bought.certificate_id
    reliability.record(
        "SIGTERM while a handler is busy", injected=1,
        invariants=["the unfinished message's offset not committed", "handled after restart"],
    )
