"""The mixed stream the fault tests share: four workspaces (two plain ones, one that gets ticks from
the future, one that sends no activation email), a seeded workload over them, the wait until
everything asked for has been done, and the invariants' verdict as one report.

A seed is printed with each run, and the test's environment variable (GIFTCERT_<NAME>_SEED)
replays it."""

import asyncio
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_services.integrator.wire import Wire
from tests.e2e.invariants import INVARIANTS, Snapshot, take_snapshot, unsettled, violations
from tests.e2e.workload import PlannedWorkspace, SentLog, Workload, plan_workload
from tests.scenario import configure


def tell(line: str) -> None:
    """Captured by pytest and shown with a failure: the seed and the numbers of the run."""
    print(line)  # noqa: T201


def seed_from(variable: str) -> int:
    chosen = os.environ.get(variable)
    seed = int(chosen) if chosen else random.SystemRandom().randrange(2**32)
    tell(f"workload seed {seed}: {variable}={seed} replays it")
    return seed


@dataclass
class MixedStream:
    workload: Workload
    emailing: set[str]
    """The workspaces that send activation emails."""
    partial: set[str]
    """v2: the workspaces in `partial` redemption mode (none unless asked for)."""


async def plan_mixed_stream(
    db: AsyncEngine, workspace: str, seed: int, *, commands: int = 2000, v2: bool = False
) -> MixedStream:
    """Configures the four workspaces (named after `workspace`) and plans ~`commands` commands;
    `v2`: a fifth workspace in `partial` mode gets v2's stories too (holds, captures, releases,
    refunds, partial redeems: see plan_workload)."""
    workspaces = [
        PlannedWorkspace(f"{workspace}-a"),
        PlannedWorkspace(f"{workspace}-b"),
        PlannedWorkspace(f"{workspace}-time", travels_in_time=True),
        PlannedWorkspace(f"{workspace}-quiet", sends_activation_email=False),
    ]
    if v2:
        workspaces.append(PlannedWorkspace(f"{workspace}-partial", partial=True))
    for planned in workspaces:
        await configure(db, planned.workspace_id, send_activation_email=planned.sends_activation_email,
                        redemption_mode="partial" if planned.partial else "full")
    emailing = {w.workspace_id for w in workspaces if w.sends_activation_email}
    partial = {w.workspace_id for w in workspaces if w.partial}
    return MixedStream(plan_workload(seed, workspaces, commands=commands), emailing, partial)


async def settle(
    db: AsyncEngine, wire: Wire, sent: SentLog, emailing: set[str], seconds: float, partial: set[str] | None = None
) -> list[str]:
    """Waits until every request is answered and every activated certificate has its PDF and email,
    then a little longer for stragglers; returns what was still missing after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        look = await take_snapshot(db, wire, sent, None, emailing, mailer_was_killed=False, partial_workspaces=partial)
        waiting = unsettled(look)
        if not waiting or time.monotonic() > deadline:
            break
        await asyncio.sleep(2.0)
    await wire.quiet(3)
    return waiting


async def verdict(
    db: AsyncEngine, wire: Wire, stream: MixedStream, sent: SentLog, mail_folder: Path, *, headline: str,
    settle_seconds: float, mailer_was_killed: bool = False,
    invariants: dict[str, Callable[[Snapshot], list[str]]] = INVARIANTS,
) -> str:
    """Settles, checks every invariant (v1's unless told) and returns the problems as one report ("" when none)."""
    waiting = await settle(db, wire, sent, stream.emailing, settle_seconds, stream.partial)
    snapshot = await take_snapshot(db, wire, sent, mail_folder, stream.emailing, mailer_was_killed=mailer_was_killed,
                                   partial_workspaces=stream.partial)
    found = violations(snapshot, invariants)
    tell(f"{len(sent.commands)} commands sent in {sent.dispatched - sent.started:.0f}s "
         f"(the last after {sent.finished - sent.started:.0f}s)")
    tell(f"commands: {dict(sorted(stream.workload.kinds().items()))}")
    tell(f"facts: {dict(sorted(snapshot.facts.items()))}")
    report = []
    if waiting:
        report.append(f"still waiting after {settle_seconds:.0f}s for: {waiting[:10]}")
    for name, problems in found.items():
        if problems:
            report.append(f"{name}: {len(problems)} violation(s):\n  " + "\n  ".join(problems[:15]))
    return "\n".join([headline, *report]) if report else ""
