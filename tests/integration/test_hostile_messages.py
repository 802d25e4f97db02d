"""Hostile bodies on every inbound topic, sent as raw bytes over the real broker to the running services.

The contract's failure rule (shared/CONTRACT.md, "Failures") is that a message that cannot be parsed
or validated goes to `<topic>.dlq` with its original bytes plus `error_type`/`error_detail`, and
consumption goes on. So each hostile message must end in exactly one dead letter carrying its exact
bytes, or, when it happens to be valid, in the decision the ledger publishes for its key; and the
workers must still answer a normal request afterwards.

The bodies come from the Hypothesis strategies of tests/unit/test_hostile_decoding.py, drawn once
into a batch (a broker round trip per example would be far too slow), plus the ones too big or too
deep for Hypothesis (1 MB strings, 1,000 levels of nesting). The batch is sent and judged once, in a
module fixture; each test checks one rule on it."""

import asyncio
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.integrator.wire import Received, Wire
from giftcert_services.runtime.faults import is_transient
from tests.reliability import Recorder
from tests.scenario import configure, request_purchase
from tests.unit.test_hostile_decoding import (
    DEAD_LETTER_ERROR_TYPES,
    HostileBody,
    decode_as_consumer,
    fixed_hostile_bodies,
    hostile_bodies,
    outcome_of,
    valid_edge_bodies,
)

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

DRAWN_PER_TOPIC = 45
"""Hypothesis examples per topic; with the fixed bodies, about 320 messages in all."""
SETTLE_SECONDS = 120.0
"""How long the batch may take to be answered (payments for unknown certificates wait for the grace period)."""
MARKER = "x-hostile"

DECISIONS: dict[Topic, tuple[tuple[Topic, ...], str]] = {
    Topic.PURCHASE_REQUESTED: ((Topic.CERTIFICATE_CREATED, Topic.PURCHASE_REJECTED), "certificate_id"),
    Topic.PAYMENT_COMPLETED: ((Topic.CERTIFICATE_ACTIVATED, Topic.PAYMENT_REJECTED), "payment_id"),
    Topic.BOOKING_REDEEM_REQUEST: ((Topic.CERTIFICATE_REDEEMED, Topic.REDEMPTION_REJECTED), "request_id"),
    Topic.VOID: ((Topic.CERTIFICATE_VOIDED, Topic.VOID_REJECTED), "request_id"),
    Topic.REACTIVATE: ((Topic.CERTIFICATE_REACTIVATED, Topic.REACTIVATE_REJECTED), "request_id"),
    Topic.BOOKING_HOLD_REQUEST: ((Topic.HOLD_PLACED, Topic.HOLD_REJECTED), "request_id"),
    Topic.BOOKING_CAPTURE_REQUEST: ((Topic.CERTIFICATE_REDEEMED, Topic.CAPTURE_REJECTED), "request_id"),
    Topic.BOOKING_RELEASE_REQUEST: ((Topic.HOLD_RELEASED, Topic.RELEASE_REJECTED), "request_id"),
}
"""Where the ledger answers a valid message of each topic, and the field naming its key. A valid
expiry tick publishes nothing of its own: its inbox row shows it was handled."""


@dataclass
class Sent:
    topic: Topic
    marker: str
    hostile: HostileBody
    expected: str
    """`valid`, or what decoding it locally gives (`validation_error`, `undecodable_json`, `raises ...`)."""
    key: str | None = None
    workspace_id: str | None = None
    dead_letters: list[Received] = field(default_factory=list)
    decisions: list[Received] = field(default_factory=list)
    handled_tick: bool = False

    @property
    def settled(self) -> bool:
        if self.expected != "valid":
            return bool(self.dead_letters)
        return bool(self.dead_letters or self.decisions or self.handled_tick)

    def __repr__(self) -> str:
        return f"Sent({self.describe()}, {len(self.dead_letters)} dead letters, {len(self.decisions)} decisions)"

    def describe(self) -> str:
        return f"{self.topic} {self.hostile.kind!r} ({self.expected}, {len(self.hostile.body)} bytes)"


class RetriedFailures(logging.Handler):
    """The failures the consumption middleware retried (its `retrying ...` warnings carry the error)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("retrying") and isinstance(record.args, tuple):
            self.errors += [arg for arg in record.args if isinstance(arg, BaseException)]


@dataclass
class Batch:
    workspace: str
    sent: list[Sent]
    seconds: float
    retried: list[BaseException] = field(default_factory=list)
    """Every failure retried while the batch was handled."""

    def __repr__(self) -> str:
        return f"Batch({len(self.sent)} messages in {self.workspace}, settled in {self.seconds:.1f}s)"


def draw_batch(topic: Topic, workspace: str, count: int) -> list[HostileBody]:
    """`count` bodies drawn by Hypothesis (fixed seed, so the batch is the same on every run)."""
    drawn: list[HostileBody] = []

    @settings(max_examples=count, derandomize=True, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(hostile_bodies(topic, workspace))
    def collect(hostile: HostileBody) -> None:
        drawn.append(hostile)

    collect()
    return drawn


def _judge(topic: Topic, marker: str, hostile: HostileBody) -> Sent:
    expected = outcome_of(topic, hostile.body)
    sent = Sent(topic, marker, hostile, expected)
    if expected == "valid":
        message = decode_as_consumer(topic, hostile.body)
        key_field = DECISIONS[topic][1] if topic in DECISIONS else "tick_id"
        sent.key = str(getattr(message, key_field))
        sent.workspace_id = str(message.workspace_id)
    return sent


async def _collect_outcomes(wire: Wire, db: AsyncEngine, batch: list[Sent]) -> None:
    by_marker = {s.marker: s for s in batch}
    for s in batch:
        s.dead_letters.clear()
        s.decisions.clear()
    for topic in INBOUND_TOPICS:
        for record in wire.on(topic, dead_letters=True):
            marker = record.headers.get(MARKER, b"").decode()
            if marker in by_marker:
                by_marker[marker].dead_letters.append(record)
    valid = [s for s in batch if s.expected == "valid"]
    for s in valid:
        if s.topic is Topic.EXPIRY_TICK:
            s.handled_tick = s.handled_tick or await _tick_handled(db, s)
            continue
        topics, key_field = DECISIONS[s.topic]
        s.decisions = [r for t in topics for r in wire.on(t) if str(r.body.get(key_field)) == s.key]


async def _tick_handled(db: AsyncEngine, sent: Sent) -> bool:
    async with db.connect() as connection:
        found = await connection.execute(
            text("SELECT 1 FROM inbox WHERE consumer = 'expiry' AND workspace_id = :w AND key = :k"),
            {"w": sent.workspace_id, "k": sent.key},
        )
        return found.first() is not None


@pytest.fixture(scope="module")
async def batch(wire: Wire, db: AsyncEngine) -> Batch:
    """The hostile batch, sent once, with what became of each message."""
    workspace = f"ws-{uuid4().hex[:12]}"
    await configure(db, workspace)
    sent: list[Sent] = []
    for topic in INBOUND_TOPICS:
        bodies = draw_batch(topic, workspace, DRAWN_PER_TOPIC)
        bodies += fixed_hostile_bodies(topic, workspace, [str(uuid4()), str(uuid4())])
        bodies += valid_edge_bodies(topic, workspace, [str(uuid4()), str(uuid4())])
        sent += [_judge(topic, f"{topic}:{index}:{uuid4().hex[:6]}", hostile) for index, hostile in enumerate(bodies)]
    retries = RetriedFailures()
    consumption_log = logging.getLogger("giftcert.consumption")
    consumption_log.addHandler(retries)
    started = time.monotonic()
    try:
        await asyncio.gather(*(
            wire.send(s.topic, s.hostile.body, headers=[(MARKER, s.marker.encode()), ("x-odd", b"\xff\xfe\x00")])
            for s in sent
        ))
        while time.monotonic() - started < SETTLE_SECONDS:
            await _collect_outcomes(wire, db, sent)
            if all(s.settled for s in sent):
                break
            await asyncio.sleep(0.5)
        await wire.quiet(1.0)  # a second dead letter or decision for one message would show now
        await _collect_outcomes(wire, db, sent)
    finally:
        consumption_log.removeHandler(retries)
    return Batch(workspace, sent, time.monotonic() - started, retries.errors)


def test_every_hostile_message_ends_in_one_dead_letter_with_its_exact_bytes_or_in_a_decision(
    batch: Batch, reliability: Recorder
) -> None:
    for topic in INBOUND_TOPICS:
        reliability.record(
            f"hostile bodies on {topic} over the broker",
            injected=sum(s.topic is topic for s in batch.sent),
            invariants=["one dead letter with the exact bytes, or a decision for a valid one",
                        "no valid message dead-lettered", f"all settled within {SETTLE_SECONDS:.0f}s"],
        )
    unsettled = [s.describe() for s in batch.sent if not s.settled]
    assert not unsettled, f"{len(unsettled)} of {len(batch.sent)} got no outcome:\n" + "\n".join(unsettled)
    twice = [s.describe() for s in batch.sent if len(s.dead_letters) > 1]
    assert twice == [], "dead-lettered more than once"
    altered = [s.describe() for s in batch.sent for d in s.dead_letters if d.value != s.hostile.body]
    assert altered == [], "a dead letter does not carry the original bytes"
    valid_dead = [
        f"{s.describe()}: {d.headers.get('error_type', b'').decode()} {d.headers.get('error_detail', b'')[:160]!r}"
        for s in batch.sent if s.expected == "valid" for d in s.dead_letters
    ]
    assert not valid_dead, "valid messages dead-lettered:\n" + "\n".join(valid_dead)


def test_hostile_messages_are_dead_lettered_as_poison_at_once_not_after_failing_handlers(
    batch: Batch, reliability: Recorder
) -> None:
    """A body that fails validation is the message's own fault: dead-lettered on arrival as
    `validation_error` or `undecodable_json`. Any other `error_type` means the decoder or a handler
    raised something else; and no failure but a transient one (database, broker, mail server away) is
    retried: a hostile body retried as a failing handler holds its partition for `handler_max_attempts`
    tries before it is dead-lettered (and its `error_type` alone would not show it)."""
    dead = [(s, d) for s in batch.sent for d in s.dead_letters]
    reliability.record(
        "hostile bodies classified on arrival",
        injected=len(dead),
        invariants=["every dead letter's error_type is validation_error or undecodable_json", "error_detail set",
                    "nothing retried but transient faults"],
    )
    retried = Counter(type(error).__name__ for error in batch.retried if not is_transient(error))
    assert not retried, f"retried as failing handlers, not dead-lettered at once: {dict(retried)}"
    misclassified = Counter(
        f"{s.topic} {s.hostile.kind!r}: {d.headers.get('error_type', b'').decode()}"
        for s, d in dead
        if d.headers.get("error_type", b"").decode() not in DEAD_LETTER_ERROR_TYPES
    )
    assert not misclassified, "dead-lettered only after failing handlers:\n" + "\n".join(sorted(misclassified))
    assert all(d.headers.get("error_detail") for _, d in dead)


def test_no_invalid_purchase_request_creates_a_certificate(batch: Batch, wire: Wire, reliability: Recorder) -> None:
    valid_ids = {s.key for s in batch.sent if s.topic is Topic.PURCHASE_REQUESTED and s.expected == "valid"}
    readable = {
        certificate_id
        for s in batch.sent
        if s.topic is Topic.PURCHASE_REQUESTED and s.expected != "valid"
        and (certificate_id := _readable_certificate_id(s.hostile.body)) not in valid_ids | {None}
    }
    reliability.record(
        "invalid purchase requests with a readable certificate id",
        injected=len(readable),
        invariants=["no certificate-created for any of them"],
    )
    created = {r.body["certificate_id"] for r in wire.on(Topic.CERTIFICATE_CREATED)}
    assert readable & created == set()


def _readable_certificate_id(body: bytes) -> str | None:
    try:
        return str(UUID(json.loads(body)["certificate_id"]))
    except (ValueError, TypeError, KeyError, RecursionError):
        return None


async def test_the_workers_still_answer_a_normal_purchase_after_the_hostile_batch(
    batch: Batch, wire: Wire, db: AsyncEngine, reliability: Recorder
) -> None:
    reliability.record(
        "a normal purchase after the hostile batch",
        injected=1,
        invariants=["certificate-created within 30s: no crash, no stalled partition"],
    )
    await configure(db, batch.workspace)
    request = await request_purchase(wire, batch.workspace)
    assert request["certificate_id"]
