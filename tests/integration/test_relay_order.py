"""Per-key order with several relays (issue 21, part 5; decision 0025): two relays publish one
outbox at once, one of them is stopped and a new one started mid-stream, while a stream of
commands keeps touching the same certificates. In every topic each certificate's events arrive in
`sequence` order, and together the topics carry every number from 1 to the certificate's last.

The race is made to happen rather than hoped for: relay A claims a batch and is held before it
publishes while relay B publishes all it may claim. Before decision 0025, B claimed the rows after
A's (FOR UPDATE SKIP LOCKED) and published a certificate's later events ahead of its earlier ones."""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select

from giftcert.clock import SystemClock
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import create_certificate
from giftcert.ledger.redemption import redeem_certificate
from giftcert.messaging.outbox import Lane
from giftcert.store.schema import certificate_sequences, outbox
from giftcert_contracts.inbound import PurchaseRequested, RedeemCertificate
from giftcert_contracts.topics import Topic
from giftcert_services.integrator.wire import Received, Wire
from giftcert_services.relay.outbox_relay import OutboxRelay, event_publishers
from giftcert_services.runtime.bootstrap import Dependencies, bootstrap
from giftcert_services.runtime.broker import build_broker
from giftcert_services.runtime.topics import ensure_topics
from tests.fakes import FixedClock
from tests.handlers.steps import configure, payment, purchase, redeem
from tests.integration.conftest import settings_of_its_own

pytestmark = pytest.mark.integration

CERTIFICATES = 6
ROUNDS = 8
"""Each round sends every certificate's redemption request again: the first redeems it, each
repeat is answered again, and every answer is an event about the certificate with its number."""
BATCH = 4
"""The relays' batch: small, so the stream spans many batches and both relays take part."""
EVENT_TOPICS = (Topic.CERTIFICATE_CREATED, Topic.CERTIFICATE_ACTIVATED, Topic.CERTIFICATE_REDEEMED)


class _Gate:
    """Holds a relay's publishing until opened; says when the relay first reached it."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()

    def around(self, publisher: Any) -> Any:
        gate = self

        class Held:
            async def publish(self, *args: Any, **kwargs: Any) -> Any:
                gate.reached.set()
                await gate.opened.wait()
                return await publisher.publish(*args, **kwargs)

        return Held()


@dataclass
class _Relay:
    relay: OutboxRelay
    broker: KafkaBroker
    deps: Dependencies

    async def close(self) -> None:
        await self.broker.stop()
        await self.deps.engine.dispose()


async def _relay(deps: Dependencies, gate: _Gate | None = None) -> _Relay:
    """A relay replica of its own (its own engine and producer), as a second pod would be."""
    own = bootstrap(deps.settings)
    broker: KafkaBroker = build_broker(own.settings)
    publishers = event_publishers(broker, own)
    if gate is not None:
        publishers = {topic: gate.around(p) for topic, p in publishers.items()}
    await broker.start()
    return _Relay(OutboxRelay(own, publishers), broker, own)


@pytest.fixture
async def deps(postgres_server_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[Dependencies]:
    settings = await settings_of_its_own(
        "order", postgres_server_url, kafka_bootstrap_servers, relay_batch_size=BATCH
    )
    await ensure_topics(settings)
    deps = bootstrap(settings)
    yield deps
    await deps.engine.dispose()


class _Stream:
    """Commands touching the same certificates, through the ledger's handlers."""

    def __init__(self, deps: Dependencies, workspace: str) -> None:
        self._deps = deps
        self._workspace = workspace
        self._clock = FixedClock(SystemClock().now())
        self.bought: list[PurchaseRequested] = []
        self._redeems: list[RedeemCertificate] = []

    async def open(self) -> None:
        await configure(self._deps.new_uow, self._clock, self._workspace)
        for _ in range(CERTIFICATES):
            bought = purchase(self._workspace, self._clock)
            await create_certificate(bought, self._deps.new_uow(), self._clock)
            self.bought.append(bought)
        for bought in self.bought:
            await activate_certificate(payment(bought, self._clock), self._deps.new_uow(), self._clock)

    async def round(self) -> None:
        if not self._redeems:
            async with self._deps.new_uow() as uow:
                codes = [await uow.certificates.get(self._workspace, b.certificate_id) for b in self.bought]
            self._redeems = [redeem(self._workspace, c.code, self._clock) for c in codes if c is not None]
        for command in self._redeems:
            await redeem_certificate(command, self._deps.new_uow(), self._clock)


async def _numbers(deps: Dependencies) -> dict[UUID, int]:
    async with deps.engine.connect() as connection:
        rows = await connection.execute(select(certificate_sequences))
        return {r.certificate_id: r.last_sequence for r in rows}


async def _left(deps: Dependencies) -> int:
    async with deps.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(outbox))).scalar_one())


def _arrivals(wire: Wire) -> dict[Topic, dict[str, list[tuple[int, str]]]]:
    """Per topic and certificate, each event's (sequence, event_id) in the order it arrived."""
    seen: dict[Topic, dict[str, list[tuple[int, str]]]] = {}
    for topic in EVENT_TOPICS:
        per_certificate: dict[str, list[tuple[int, str]]] = defaultdict(list)
        record: Received
        for record in wire.on(topic):
            body = record.body
            per_certificate[body["certificate_id"]].append((body["sequence"], body["event_id"]))
        seen[topic] = per_certificate
    return seen


def _assert_in_order(arrivals: dict[Topic, dict[str, list[tuple[int, str]]]], numbers: dict[UUID, int]) -> None:
    """In each topic a certificate's events (a repeat of one already seen aside) came in `sequence`
    order; together they carry each of its numbers once, from 1 to its last."""
    for topic, per_certificate in arrivals.items():
        for certificate_id, events in per_certificate.items():
            first_seen: dict[str, int] = {}
            for sequence, event_id in events:
                first_seen.setdefault(event_id, sequence)
            in_order = list(first_seen.values())
            assert in_order == sorted(in_order), f"{topic.value}: {certificate_id} arrived as {in_order}"
    for certificate_id, last in numbers.items():
        taken = sorted({s for t in arrivals.values() for s, _ in t.get(str(certificate_id), [])})
        assert taken == list(range(1, last + 1)), f"{certificate_id}: a number is missing or extra"


async def test_each_certificates_events_arrive_in_sequence_order_with_two_relays_and_a_restart(
    deps: Dependencies, workspace: str
) -> None:
    wire = Wire(deps.settings)
    await wire.start()
    stream = _Stream(deps, workspace)
    gate = _Gate()
    a, b = await _relay(deps, gate), await _relay(deps)
    c: _Relay | None = None
    relays = [a, b]
    try:
        await stream.open()
        while await b.relay.relay_batch(Lane.EVENTS):
            pass
        await stream.round()
        await stream.round()

        # Two rounds of answers on one topic wait. A claims the oldest batch (the first answers to
        # some certificates) and is held; B publishes whatever it may claim meanwhile.
        held = asyncio.create_task(a.relay.relay_batch(Lane.CHECKOUT_REPLIES))  # the answers' lane
        reached = asyncio.create_task(gate.reached.wait())
        await asyncio.wait([held, reached], return_when=asyncio.FIRST_COMPLETED)
        assert gate.reached.is_set(), "relay A claimed nothing"
        while await b.relay.relay_batch(Lane.CHECKOUT_REPLIES):
            pass
        gate.opened.set()
        await held

        # Both poll while the stream goes on; B is stopped mid-stream and a new relay C starts.
        a.relay.start()
        b.relay.start()
        for n in range(ROUNDS):
            await stream.round()
            if n == ROUNDS // 2:
                await b.relay.drain_and_stop(asyncio.get_running_loop().time() + 30)
                c = await _relay(deps)
                relays.append(c)
                c.relay.start()
        assert c is not None
        for replica in (a, c):
            await replica.relay.drain_and_stop(asyncio.get_running_loop().time() + 30)
        assert await _left(deps) == 0, "every row was published"

        numbers = await _numbers(deps)
        assert sorted(numbers) == sorted(b.certificate_id for b in stream.bought)
        total = sum(numbers.values())
        async with asyncio.timeout(60):
            while sum(len({e for _, e in ids}) for t in _arrivals(wire).values() for ids in t.values()) < total:
                await asyncio.sleep(0.1)
    finally:
        for replica in relays:
            await replica.close()
        await wire.stop()

    _assert_in_order(_arrivals(wire), numbers)
