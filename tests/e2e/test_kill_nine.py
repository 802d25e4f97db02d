"""kill -9 of one worker at random moments while ~2,000 mixed commands stream in, for each of the
ledger, documents, mailer and relay workers; then, once everything asked for has been done, the
invariants of tests/e2e/invariants.py against the database, the events and the mail sink.

SIGKILL gives the worker no chance to finish anything: a transaction may be half done (PostgreSQL
rolls it back), committed with its offset not yet committed (the inbox absorbs the redelivery), an
outbox batch published but not deleted (the relay publishes it again, same event ids), an email
accepted by the mail server but not yet recorded (sent again, same Message-ID: the one duplicate the
design allows). The workload is seeded; the seed is printed, and GIFTCERT_KILL_NINE_SEED replays it."""

import asyncio
import os
import random
import time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import Launcher, Worker
from tests.e2e.invariants import INVARIANTS, take_snapshot, unsettled, violations
from tests.e2e.workload import PlannedWorkspace, SentLog, WorkloadSender, plan_workload
from tests.reliability import Recorder
from tests.scenario import configure

pytestmark = [pytest.mark.e2e, pytest.mark.reliability, pytest.mark.timeout(600)]

WORKERS = ("ledger", "documents", "mailer", "relay")
MIN_KILLS = 5
SETTLE_SECONDS = 120.0


def _tell(line: str) -> None:
    """Captured by pytest and shown with a failure: the seed and the numbers of the run."""
    print(line)  # noqa: T201


def _seed() -> int:
    chosen = os.environ.get("GIFTCERT_KILL_NINE_SEED")
    return int(chosen) if chosen else random.SystemRandom().randrange(2**32)


async def _kill_repeatedly(launch: Launcher, victim: Worker, rng: random.Random, until: float) -> int:
    """SIGKILL the worker 2-5 s after it (or its predecessor) started, and start a new one at once,
    until the loop's clock reads `until` (the last planned command) and at least MIN_KILLS were
    done. Returns how many. A new ledger takes 5-20 s to get its partitions back (the dead one's
    session must expire first), so its kills come about every 15 s."""
    loop = asyncio.get_running_loop()
    kills = 0
    while loop.time() < until or kills < MIN_KILLS:
        await asyncio.sleep(rng.uniform(2.0, 5.0))
        victim.process.kill()
        await asyncio.to_thread(victim.process.wait)
        kills += 1
        victim = await launch(*victim.services).wait_until_started()
    return kills


async def _settle(db: AsyncEngine, wire: Wire, sent: SentLog, emailing: set[str]) -> list[str]:
    """Waits until every request is answered and every activated certificate has its PDF and email,
    then a little longer for stragglers; returns what was still missing at the deadline."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        look = await take_snapshot(db, wire, sent, None, emailing, mailer_was_killed=False)
        waiting = unsettled(look)
        if not waiting or time.monotonic() > deadline:
            break
        await asyncio.sleep(2.0)
    await wire.quiet(3)
    return waiting


@pytest.mark.parametrize("victim", WORKERS)
async def test_kill_nine_of_a_worker_under_2000_mixed_commands_breaks_no_invariant(
    victim: str, launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path,
    reliability: Recorder,
) -> None:
    began = time.monotonic()
    seed = _seed()
    _tell(f"workload seed {seed}: GIFTCERT_KILL_NINE_SEED={seed} replays it")
    workspaces = [
        PlannedWorkspace(f"{workspace}-a"),
        PlannedWorkspace(f"{workspace}-b"),
        PlannedWorkspace(f"{workspace}-time", travels_in_time=True),
        PlannedWorkspace(f"{workspace}-quiet", sends_activation_email=False),
    ]
    for planned in workspaces:
        await configure(db, planned.workspace_id, send_activation_email=planned.sends_activation_email)
    emailing = {w.workspace_id for w in workspaces if w.sends_activation_email}
    workload = plan_workload(seed, workspaces)

    workers = {service: launch(service) for service in WORKERS}
    await asyncio.gather(*(worker.wait_until_started() for worker in launch.workers))
    stream = asyncio.create_task(WorkloadSender(wire, db).play(workload))
    end_of_plan = asyncio.get_running_loop().time() + workload.duration
    kills = await _kill_repeatedly(launch, workers[victim], random.Random(f"{seed}:kills"), end_of_plan)
    sent = await stream
    streamed = f"{sent.dispatched - sent.started:.0f}s (the last after {sent.finished - sent.started:.0f}s)"
    waiting = await _settle(db, wire, sent, emailing)
    settled = time.monotonic() - began

    snapshot = await take_snapshot(db, wire, sent, mail_folder, emailing, mailer_was_killed=victim == "mailer")
    found = violations(snapshot)
    reliability.record(
        f"kill -9 of the {victim} worker under 2,000 mixed commands", injected=kills, invariants=list(INVARIANTS)
    )
    _tell(f"{len(sent.commands)} commands sent in {streamed}, {kills} kills of {victim}, settled "
          f"after {settled:.0f}s, {time.monotonic() - began:.0f}s in all")
    _tell(f"commands: {dict(sorted(workload.kinds().items()))}")
    _tell(f"facts: {dict(sorted(snapshot.facts.items()))}")
    report = [f"seed {seed}, {kills} kills of {victim}"]
    if waiting:
        report.append(f"still waiting after {SETTLE_SECONDS:.0f}s for: {waiting[:10]}")
    for name, problems in found.items():
        if problems:
            report.append(f"{name}: {len(problems)} violation(s):\n  " + "\n  ".join(problems[:15]))
    assert not waiting, "\n".join(report)
    assert not any(found.values()), "\n".join(report)
