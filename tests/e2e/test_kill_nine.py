"""kill -9 of one worker at random moments while ~2,000 mixed commands stream in, for each of the
ledger, expiry, documents, mailer and relay workers; then, once everything asked for has been done, the
invariants of tests/e2e/invariants.py against the database, the events and the mail sink.

SIGKILL gives the worker no chance to finish anything: a transaction may be half done (PostgreSQL
rolls it back), committed with its offset not yet committed (the inbox absorbs the redelivery), an
outbox batch published but not deleted (the relay publishes it again, same event ids), an email
accepted by the mail server but not yet recorded (sent again, same Message-ID: the one duplicate the
design allows). The workload is seeded; the seed is printed, and GIFTCERT_KILL_NINE_SEED replays it.

The v2 row kills the ledger under a stream that also has a `partial` workspace's stories (partial
redeems, holds, captures in full and in part, releases, refunds, their repeats and races), checks
v2's invariant as well (no value applied twice) and ends with `giftcert ledger verify`."""

import asyncio
import random
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import GIFTCERT, Launcher, Worker, environment
from tests.e2e.invariants import INVARIANTS, INVARIANTS_V2
from tests.e2e.mixed_stream import plan_mixed_stream, seed_from, tell, verdict
from tests.e2e.workload import WorkloadSender
from tests.reliability import Recorder

pytestmark = [pytest.mark.e2e, pytest.mark.reliability, pytest.mark.timeout(600)]

WORKERS = ("ledger", "expiry", "documents", "mailer", "relay")
MIN_KILLS = 5
SETTLE_SECONDS = 120.0
V2_COMMANDS = 1500
"""The v2 row's stream: ~40% of it v2 stories, the rest v1's mix (smaller than 2,000: one row, a few minutes)."""


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


@pytest.mark.parametrize("victim", WORKERS)
async def test_kill_nine_of_a_worker_under_2000_mixed_commands_breaks_no_invariant(
    victim: str, launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path,
    reliability: Recorder,
) -> None:
    began = time.monotonic()
    seed = seed_from("GIFTCERT_KILL_NINE_SEED")
    stream = await plan_mixed_stream(db, workspace, seed)

    workers = {service: launch(service) for service in WORKERS}
    await asyncio.gather(*(worker.wait_until_started() for worker in launch.workers))
    sending = asyncio.create_task(WorkloadSender(wire, db).play(stream.workload))
    end_of_plan = asyncio.get_running_loop().time() + stream.workload.duration
    kills = await _kill_repeatedly(launch, workers[victim], random.Random(f"{seed}:kills"), end_of_plan)
    sent = await sending
    problems = await verdict(
        db, wire, stream, sent, mail_folder, headline=f"seed {seed}, {kills} kills of {victim}",
        settle_seconds=SETTLE_SECONDS, mailer_was_killed=victim == "mailer",
    )
    reliability.record(
        f"kill -9 of the {victim} worker under 2,000 mixed commands", injected=kills, invariants=list(INVARIANTS)
    )
    tell(f"{kills} kills of {victim}, {time.monotonic() - began:.0f}s in all")
    assert not problems, problems


async def test_kill_nine_of_the_ledger_under_a_stream_mixing_v2_commands_breaks_no_invariant_and_verifies(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path, reliability: Recorder,
) -> None:
    began = time.monotonic()
    seed = seed_from("GIFTCERT_KILL_NINE_SEED")
    stream = await plan_mixed_stream(db, workspace, seed, commands=V2_COMMANDS, v2=True)

    workers = {service: launch(service) for service in WORKERS}
    await asyncio.gather(*(worker.wait_until_started() for worker in launch.workers))
    sending = asyncio.create_task(WorkloadSender(wire, db).play(stream.workload))
    end_of_plan = asyncio.get_running_loop().time() + stream.workload.duration
    kills = await _kill_repeatedly(launch, workers["ledger"], random.Random(f"{seed}:kills"), end_of_plan)
    sent = await sending
    problems = await verdict(
        db, wire, stream, sent, mail_folder, headline=f"seed {seed}, {kills} kills of ledger (v2 mix)",
        settle_seconds=SETTLE_SECONDS, invariants=INVARIANTS_V2,
    )
    verified = await asyncio.to_thread(
        subprocess.run, [GIFTCERT, "ledger", "verify"], env=environment(launch.settings), capture_output=True,
        text=True, timeout=120, check=False,
    )
    reliability.record(
        f"kill -9 of the ledger worker under {V2_COMMANDS:,} mixed v1 and v2 commands", injected=kills,
        invariants=[*INVARIANTS_V2, "giftcert ledger verify clean"],
    )
    tell(f"{kills} kills of ledger (v2 mix), {time.monotonic() - began:.0f}s in all; ledger verify: "
         f"{verified.stdout.strip()} {verified.stderr.strip()}")
    assert not problems, problems
    assert verified.returncode == 0, verified.stdout + verified.stderr
