"""Scaling out: three ledger replicas share the partitions of every ledger topic through their
consumer groups while ~1,200 mixed commands stream in; mid-stream a fourth joins, one is stopped
(SIGTERM), one is killed (SIGKILL) and one frozen past its session timeout (SIGSTOP), each forcing a
rebalance of all six groups. Afterwards the
invariants of tests/e2e/invariants.py hold, every replica handled messages of its own share, and
the offset commits a rebalance made fail (aiokafka's CommitFailedError: the partition went to
another replica while its message was in hand) were absorbed: logged, the message handled again by
the new owner, the inbox turning the repeat into its stored reply. Every eighth redeem and payment
a replica handles is held 2 s (the `delay_before_handler` failpoint), so that rebalances do meet
messages in hand."""

import asyncio
import re
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import Launcher, Worker
from tests.e2e.invariants import INVARIANTS
from tests.e2e.mixed_stream import plan_mixed_stream, seed_from, tell, verdict
from tests.e2e.workload import WorkloadSender
from tests.reliability import Recorder

pytestmark = [pytest.mark.e2e, pytest.mark.reliability, pytest.mark.timeout(240)]

PARTITIONS = 6
COMMANDS = 1200
GRACE_SECONDS = 6.0
EXIT_MARGIN_SECONDS = 5.0
SETTLE_SECONDS = 90.0
FROZEN_SECONDS = 14.0
"""Longer than a consumer's session timeout (aiokafka's 10 s)."""
PROCESSED = re.compile(r"\| \S+\.ledger\.(\S+) +\| .* - Processed")
COMMIT_ABSORBED = "offset commit failed"
"""consumption.py's warning: the commit failed, the message will come again."""
REJOINING = re.compile(r"ERROR aiokafka\.consumer\.group_coordinator OffsetCommit failed for group .* will rejoin")
"""aiokafka's own account of the same failed commit."""
SESSION_EXPIRED = re.compile(r"ERROR aiokafka\.consumer\.group_coordinator Heartbeat session expired")
"""aiokafka's account of the frozen replica's thaw: its session lapsed, it joins again."""
UNEXPECTED = ("Traceback", "Task exception was never retrieved", "ERROR")
HELD = "delay_before_handler@booking-redeem-request,delay_before_handler@payment-completed"
BUSY_TOPICS = (Topic.PURCHASE_REQUESTED, Topic.PAYMENT_COMPLETED, Topic.BOOKING_REDEEM_REQUEST)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test's own topics get six partitions: three or four replicas each hold some of each."""
    return settings.model_copy(update={"topic_partitions": PARTITIONS})


def _handled(worker: Worker) -> dict[str, int]:
    """How many messages the replica handled, by ledger topic."""
    counts: dict[str, int] = {}
    for topic in PROCESSED.findall(worker.output):
        counts[topic] = counts.get(topic, 0) + 1
    return counts


async def test_ledger_replicas_scaled_up_stopped_and_killed_mid_stream_share_the_work_and_break_no_invariant(
    launch: Launcher, wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path, reliability: Recorder,
) -> None:
    seed = seed_from("GIFTCERT_SCALING_SEED")
    stream = await plan_mixed_stream(db, workspace, seed, commands=COMMANDS)
    for service in ("expiry", "documents", "mailer", "relay"):
        launch(service)
    grace = {  # and some messages held in hand a while, so that rebalances meet them
        "graceful_timeout_seconds": str(GRACE_SECONDS), "failpoints": HELD, "failpoint_delay_seconds": "2",
        "failpoint_delay_every": "8",
    }
    ledgers = [launch("ledger", **grace) for _ in range(3)]
    await asyncio.gather(*(worker.wait_until_started() for worker in launch.workers))

    sending = asyncio.create_task(WorkloadSender(wire, db).play(stream.workload))
    await asyncio.sleep(8)
    ledgers.append(await launch("ledger", **grace).wait_until_started())
    await asyncio.sleep(6)
    signalled = time.monotonic()
    ledgers[0].process.send_signal(signal.SIGTERM)
    stopped_with = await ledgers[0].wait_for_exit()
    took = time.monotonic() - signalled
    await asyncio.sleep(6)
    ledgers[1].process.kill()
    # Apache Kafka takes an offset commit from a member whose group is only preparing to rebalance,
    # so the rebalances above rarely make one fail (Tansu's often do): a replica frozen past its
    # session timeout is put out of the group, and its commits after it thaws fail for certain
    await asyncio.sleep(2)
    ledgers[2].process.send_signal(signal.SIGSTOP)
    await asyncio.sleep(FROZEN_SECONDS)
    ledgers[2].process.send_signal(signal.SIGCONT)
    sent = await sending

    problems = await verdict(
        db, wire, stream, sent, mail_folder, headline=f"seed {seed}: a fourth ledger, a SIGTERM, a SIGKILL",
        settle_seconds=SETTLE_SECONDS,
    )
    handled = [_handled(worker) for worker in ledgers]
    absorbed = sum(worker.output.count(COMMIT_ABSORBED) for worker in ledgers)
    tell(f"handled by each ledger: {handled}; offset commits absorbed after a rebalance: {absorbed}; "
         f"SIGTERM exit after {took:.1f}s")
    reliability.record(
        "ledger replicas rebalanced mid-stream: a fourth added, one stopped (SIGTERM), one killed, one frozen",
        injected=4,
        invariants=["every replica handled its share", "failed offset commits absorbed", *INVARIANTS],
    )
    assert not problems, problems
    assert stopped_with == 0
    assert took <= GRACE_SECONDS + EXIT_MARGIN_SECONDS, f"the stopped ledger exited after {took:.1f}s"
    assert all(handled), f"a replica handled nothing: {handled}"
    for topic in BUSY_TOPICS:  # each replica held some of these topics' partitions
        sharing = sum(1 for counts in handled if counts.get(topic.value))
        assert sharing >= len(ledgers) - 1, f"{topic} handled by {sharing} of {len(ledgers)} replicas: {handled}"
    for worker in ledgers:
        expected = (REJOINING, SESSION_EXPIRED) if worker is ledgers[2] else (REJOINING,)
        unexpected = [line for line in worker.output.splitlines()
                      if any(word in line for word in UNEXPECTED) and not any(p.search(line) for p in expected)]
        assert not unexpected, f"{worker.log.name}: {unexpected[:5]}"
    assert absorbed, "no offset commit met a rebalance: the test did not exercise what it checks"
    for worker in ledgers[2:]:  # the survivors went on after each commit a rebalance made fail
        output = worker.output
        if COMMIT_ABSORBED in output:
            assert PROCESSED.search(output, output.rindex(COMMIT_ABSORBED)), f"{worker.log.name} stopped handling"
