"""SIGTERM to a worker mid-stream, three times, for each of the ledger, expiry, documents, mailer and
relay workers, while ~1,000 mixed commands stream in; then, restarted and settled, the invariants of
tests/e2e/invariants.py. And a process running the ledger and the relay together, stopped while it
is busy, leaves nothing in the outbox.

A SIGTERM is a graceful stop, so each one must show it (stopping.py checks every point):
- the process exits with code 0 within GIFTCERT_GRACEFUL_TIMEOUT_SECONDS plus EXIT_MARGIN_SECONDS
  (leaving the consumer groups, closing the pool, the interpreter's exit);
- a message in hand that can finish within the grace finishes and its offset is committed: the
  `delay_before_handler` failpoint holds one for DELAY_SECONDS and the signal comes meanwhile;
- one that cannot (the `stall_before_handler` failpoint, on the ledger's reactivate) is cancelled,
  its offset is not committed, and the next ledger handles it once;
- the relay publishes and deletes every outbox row committed when the signal came: it polls only
  once a second here, so rows are always waiting when it is stopped.
Nothing is lost or done twice: no duplicate email even for the mailer (unlike kill -9)."""

import asyncio
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import Launcher
from tests.e2e.invariants import INVARIANTS
from tests.e2e.mixed_stream import plan_mixed_stream, seed_from, tell, verdict
from tests.e2e.stopping import GRACE_SECONDS, VICTIMS, outbox_ids, stop_mid_stream, victim_env
from tests.e2e.workload import WorkloadSender
from tests.reliability import Recorder
from tests.scenario import configure

pytestmark = [pytest.mark.e2e, pytest.mark.reliability, pytest.mark.timeout(240)]

ROUNDS = 3
COMMANDS = 1000
SETTLE_SECONDS = 90.0
FIRST_STOP_AFTER_SECONDS = 3.0


@pytest.mark.parametrize("service", list(VICTIMS))
async def test_sigterm_of_a_worker_mid_stream_finishes_or_returns_its_work_and_breaks_no_invariant(
    service: str, launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, settings: Settings,
    mail_folder: Path, reliability: Recorder,
) -> None:
    victim = VICTIMS[service]
    seed = seed_from("GIFTCERT_SIGTERM_SEED")
    stream = await plan_mixed_stream(db, workspace, seed, commands=COMMANDS)
    for other in VICTIMS:
        if other != service:
            launch(other)
    worker = launch(service, **victim_env(victim))
    await asyncio.gather(*(w.wait_until_started() for w in launch.workers))

    sending = asyncio.create_task(WorkloadSender(wire, db).play(stream.workload))
    await asyncio.sleep(FIRST_STOP_AFTER_SECONDS)
    problems: list[str] = []
    for round_number in range(1, ROUNDS + 1):
        stopped = await stop_mid_stream(victim, worker, settings, db, wire)
        tell(f"SIGTERM {round_number} of {service}: {stopped.summary}")
        problems += [f"SIGTERM {round_number}: {problem}" for problem in stopped.problems]
        last = round_number == ROUNDS
        worker = await launch(service, **victim_env(victim, armed=not last)).wait_until_started()
    sent = await sending

    found = await verdict(
        db, wire, stream, sent, mail_folder, headline=f"seed {seed}, {ROUNDS} SIGTERMs of {service}",
        settle_seconds=SETTLE_SECONDS,
    )
    reliability.record(
        f"SIGTERM of the {service} worker mid-stream (1,000 mixed commands)", injected=ROUNDS,
        invariants=[f"exit 0 within the grace ({GRACE_SECONDS:.0f} s) + margin", *victim.promises, *INVARIANTS],
    )
    assert not problems, "\n".join(problems)
    assert not found, found


async def test_sigterm_of_a_busy_ledger_and_relay_process_publishes_every_committed_change(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, reliability: Recorder
) -> None:
    """In one process the consumers stop first (finishing and committing what they hold), then the
    relay publishes what is committed, theirs included: nothing stays in the outbox."""
    await configure(db, workspace)
    both = await launch(  # polling once a second: the stop itself must publish the last changes
        "ledger", "relay", graceful_timeout_seconds=str(GRACE_SECONDS), relay_poll_seconds="1.0"
    ).wait_until_started()
    purchases = [requests.purchase(workspace) for _ in range(400)]
    await asyncio.gather(*(wire.send(Topic.PURCHASE_REQUESTED, body) for body in purchases))
    await wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["workspace_id"] == workspace, count=20)

    signalled = time.monotonic()
    both.process.send_signal(signal.SIGTERM)
    assert await both.wait_for_exit() == 0, both.output[-3000:]
    took = time.monotonic() - signalled
    async with db.connect() as connection:
        created = set((await connection.execute(
            text("SELECT id::text FROM certificates WHERE workspace_id = :ws"), {"ws": workspace}
        )).scalars())
    assert not await outbox_ids(db), "events of committed changes were left in the outbox"
    assert 20 <= len(created) < len(purchases), f"{len(created)} handled: the process was not stopped mid-burst"
    await wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] in created, count=len(created))
    assert took <= GRACE_SECONDS + 5, f"exited {took:.1f}s after SIGTERM"
    tell(f"{len(created)} of {len(purchases)} purchases handled before the stop, exit after {took:.1f}s")
    reliability.record(
        "SIGTERM of a busy process running the ledger and the relay", injected=1,
        invariants=["exit 0 within the grace", "outbox empty after exit", "every committed change published"],
    )
