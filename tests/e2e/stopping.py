"""One graceful stop of a worker in the middle of a stream, and everything it must show: exit code 0
within the grace plus a margin, the message it held finished and committed, the message it could
not finish left uncommitted, the relay's committed rows published and deleted.

Which message is in hand comes from the failpoints' own lines on the worker's output
(`failpoint delay_before_handler@TOPIC reached at PARTITION@OFFSET`, then `released`): the signal is
sent while a freshly reached delay holds its message, and the `released` line coming after FastStream's
`shutting down` line shows that the message was still in hand when the stop began."""

import asyncio
import re
import signal
import time
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import Worker
from tests.e2e.offsets import committed_offsets

GRACE_SECONDS = 6.0
"""GIFTCERT_GRACEFUL_TIMEOUT_SECONDS of the stopped worker."""
DELAY_SECONDS = 1.5
"""How long `delay_before_handler` holds a message: well within the grace."""
EXIT_MARGIN_SECONDS = 5.0
SHUTTING_DOWN = "FastStream app shutting down"
WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Victim:
    service: str
    held: Topic | None = None
    """The topic whose messages `delay_before_handler` holds: each (each batch, for a batch consumer)."""
    stalled: Topic | None = None
    """The topic whose messages `stall_before_handler` never lets finish."""
    relay_poll_seconds: float | None = None
    promises: tuple[str, ...] = ()
    """What a stop of this worker must show, besides its bounded exit: for the report."""


VICTIMS = {
    "ledger": Victim(
        "ledger", held=Topic.VOID, stalled=Topic.REACTIVATE,
        promises=("the message in hand finished and committed", "a handler cut short not committed"),
    ),
    "expiry": Victim("expiry", held=Topic.EXPIRY_TICK, promises=("the tick in hand finished and committed",)),
    "documents": Victim(
        "documents", held=Topic.CERTIFICATE_ACTIVATED,  # a batch consumer: every batch is held
        promises=("the batch in hand finished and committed",),
    ),
    "mailer": Victim(
        "mailer", held=Topic.PDF_READY, promises=("the batch in hand finished and committed",),
    ),
    "relay": Victim(
        "relay", relay_poll_seconds=1.0, promises=("every outbox row committed before the signal published",),
    ),
}


def victim_env(victim: Victim, *, armed: bool = True) -> dict[str, str]:
    """The GIFTCERT_* settings of the stopped worker; `armed` False: without its failpoints."""
    env = {"graceful_timeout_seconds": str(GRACE_SECONDS)}
    if victim.relay_poll_seconds is not None and armed:
        env["relay_poll_seconds"] = str(victim.relay_poll_seconds)
    points = [f"delay_before_handler@{victim.held.value}"] if victim.held else []
    points += [f"stall_before_handler@{victim.stalled.value}"] if victim.stalled else []
    if points and armed:
        env |= {
            "failpoints": ",".join(points), "failpoint_delay_seconds": str(DELAY_SECONDS),
        }
    return env


def _reached(point: str, topic: Topic) -> str:
    return rf"failpoint {point}@{re.escape(topic.value)} reached at (\d+)@(\d+)"


async def outbox_ids(db: AsyncEngine) -> dict[int, str]:
    """Every outbox row: its id and its event's id."""
    async with db.connect() as connection:
        rows = (await connection.execute(text("SELECT id, headers->>'ce_id' AS ce_id FROM outbox"))).all()
    return {int(row.id): str(row.ce_id) for row in rows}


@dataclass
class Stop:
    took: float = 0.0
    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"exit after {self.took:.1f}s; " + "; ".join(self.details)


async def _held_message(victim: Victim, worker: Worker) -> tuple[int, int] | None:
    """Waits for a fresh delay to hold a message, unless one holds a message now (a restarted batch
    consumer may hold its whole backlog at once, the moment it starts); returns its (partition, offset)."""
    if victim.held is None:
        return None
    pattern = _reached("delay_before_handler", victim.held)
    reached = re.findall(pattern, worker.output)
    if reached and f"released at {reached[-1][0]}@{reached[-1][1]}" not in worker.output:
        return int(reached[-1][0]), int(reached[-1][1])
    before = len(reached)
    await worker.wait_for_output(pattern, count=before + 1, timeout=WAIT_SECONDS)
    partition, offset = re.findall(pattern, worker.output)[before]
    return int(partition), int(offset)


async def _check_held(victim: Victim, worker: Worker, settings: Settings, at: tuple[int, int], stop: Stop) -> None:
    assert victim.held is not None
    partition, offset = at
    output = worker.output
    released = output.find(f"failpoint delay_before_handler@{victim.held.value} released at {partition}@{offset}")
    if released < 0:
        stop.problems.append(f"{victim.held} {partition}@{offset} was cut short by the stop, not finished")
    elif released < output.find(SHUTTING_DOWN):
        stop.problems.append(f"{victim.held} {partition}@{offset} was done before the stop began: nothing was in hand")
    committed = (await committed_offsets(settings, victim.service, victim.held))[partition]
    if committed is None or committed <= offset:
        stop.problems.append(f"{victim.held} {partition}@{offset} in hand at SIGTERM: committed offset {committed}")
    stop.details.append(f"{victim.held} {partition}@{offset} in hand, committed up to {committed}")


async def _check_stalled(victim: Victim, worker: Worker, settings: Settings, stop: Stop) -> None:
    assert victim.stalled is not None
    found = re.findall(_reached("stall_before_handler", victim.stalled), worker.output)
    if not found:
        stop.problems.append(f"no {victim.stalled} message was stalled")
        return
    partition, offset = (int(n) for n in found[0])
    committed = (await committed_offsets(settings, victim.service, victim.stalled))[partition]
    if committed is not None and committed > offset:
        stop.problems.append(f"{victim.stalled} {partition}@{offset}, cut short, was committed ({committed})")
    stop.details.append(f"{victim.stalled} {partition}@{offset} cut short, committed up to {committed}")


async def _check_published(db: AsyncEngine, wire: Wire, waiting: dict[int, str], stop: Stop) -> None:
    left = set(waiting) & set(await outbox_ids(db))
    if left:
        stop.problems.append(f"{len(left)} of {len(waiting)} rows committed before SIGTERM still in the outbox")
    expected = {event_id for row, event_id in waiting.items() if row not in left}
    deadline = time.monotonic() + 15
    while True:
        seen = {r.headers.get("ce_id", b"").decode() for topic in Topic for r in wire.on(topic)}
        if expected <= seen or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    if expected - seen:
        stop.problems.append(f"{len(expected - seen)} events deleted from the outbox never reached the broker")
    stop.details.append(f"{len(waiting)} outbox rows waiting at SIGTERM, {len(left)} left after")


async def _waiting_rows(db: AsyncEngine) -> dict[int, str]:
    deadline = time.monotonic() + WAIT_SECONDS
    while not (rows := await outbox_ids(db)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return rows


async def stop_mid_stream(victim: Victim, worker: Worker, settings: Settings, db: AsyncEngine, wire: Wire) -> Stop:
    """SIGTERM while the worker holds a message (or, for the relay, while rows wait), and the checks."""
    stop = Stop()
    if victim.stalled is not None:
        await worker.wait_for_output(_reached("stall_before_handler", victim.stalled), timeout=WAIT_SECONDS)
    held = await _held_message(victim, worker)
    waiting = await _waiting_rows(db) if victim.service == "relay" else {}
    signalled = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    code = await worker.wait_for_exit(timeout=GRACE_SECONDS + EXIT_MARGIN_SECONDS + 30)
    stop.took = time.monotonic() - signalled
    if code != 0:
        stop.problems.append(f"exit code {code}:\n{worker.output[-3000:]}")
    if stop.took > GRACE_SECONDS + EXIT_MARGIN_SECONDS:
        stop.problems.append(f"exited {stop.took:.1f}s after SIGTERM, the grace is {GRACE_SECONDS:.0f}s")
    if held is not None:
        await _check_held(victim, worker, settings, held, stop)
    if victim.stalled is not None:
        await _check_stalled(victim, worker, settings, stop)
    if victim.service == "relay":
        if not waiting:
            stop.problems.append("no outbox row was waiting at SIGTERM")
        await _check_published(db, wire, waiting, stop)
    return stop
