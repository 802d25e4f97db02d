"""One trace per inbound message, across the transaction, the outbox, the relay and the workers
downstream, on the real broker and PostgreSQL: purchase-requested -> certificate-created, and
payment-completed -> certificate-activated -> pdf-ready -> certificate-sent, each event carrying its
`traceparent` as a Kafka header. With tracing off nothing is traced, stored or exported.

The traced services run in-process on a database and topics of their own (the session's untraced
services share theirs), exporting to an in-memory exporter."""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.mail.sink import MailFolderSink
from giftcert.settings import Settings
from giftcert.store.outbox import OutboxWriter
from giftcert.store.schema import outbox
from giftcert_contracts.outbound import PdfReady
from giftcert_contracts.topics import Topic
from giftcert_services.app import build_app
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Received, Wire
from giftcert_services.runtime.bootstrap import bootstrap
from tests.databases import migrated_database_url
from tests.scenario import configure

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Caller:
    """The span of the platform's system that sent a message; it is not ours, so not exported here."""

    trace_id: str
    span_id: str

    @classmethod
    def new(cls) -> "Caller":
        return cls(secrets.token_hex(16), secrets.token_hex(8))

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [("traceparent", f"00-{self.trace_id}-{self.span_id}-01".encode())]


@dataclass
class Traced:
    settings: Settings
    wire: Wire
    db: AsyncEngine
    spans: InMemorySpanExporter


@pytest.fixture(scope="module")
def traced_database_url(postgres_server_url: str) -> str:
    return migrated_database_url(postgres_server_url, "trace")


@pytest.fixture(scope="module")
async def traced(
    traced_database_url: str, kafka_bootstrap_servers: str, mail_sink: MailFolderSink
) -> AsyncIterator[Traced]:
    prefix = f"tr{uuid4().hex[:8]}."
    settings = Settings(
        database_url=traced_database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_prefix=prefix,
        consumer_group_prefix=prefix,  # not the session services' groups
        smtp_port=mail_sink.port,
        relay_poll_seconds=0.02,
        retry_initial_seconds=0.05,
        retry_max_seconds=1.0,
        topic_partitions=2,
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = build_app(bootstrap(settings, tracer_provider=provider))
    await app.start()
    wire = Wire(settings)
    await wire.start()
    db = create_async_engine(settings.database_url)
    try:
        yield Traced(settings, wire, db, exporter)
    finally:
        await db.dispose()
        await wire.stop()
        await app.stop()


def parent_of(record: Received) -> tuple[str, str]:
    """The trace id and parent span id of a published record's `traceparent` header."""
    version, trace_id, span_id, _flags = record.headers["traceparent"].decode().split("-")
    assert version == "00"
    return trace_id, span_id


def _hex(span_id: int) -> str:
    return trace.format_span_id(span_id)


async def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """A consumer's span ends after its offset commit, just after the event a test sees."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the spans did not arrive in time")
        await asyncio.sleep(0.05)


def lineage(spans: InMemorySpanExporter, span_id: str) -> tuple[list[ReadableSpan], str | None]:
    """The exported spans from `span_id` up through its parents, and the first parent not exported."""
    by_id = {_hex(span.context.span_id): span for span in spans.get_finished_spans()}
    chain: list[ReadableSpan] = []
    current: str | None = span_id
    while current is not None and current in by_id:
        span = by_id[current]
        chain.append(span)
        current = _hex(span.parent.span_id) if span.parent is not None else None
    return chain, current


async def test_a_purchase_request_and_its_certificate_created_reply_are_one_trace(
    traced: Traced, workspace: str
) -> None:
    await configure(traced.db, workspace)
    caller = Caller.new()
    request = messages.purchase(workspace)
    await traced.wire.send(Topic.PURCHASE_REQUESTED, request, headers=caller.headers)
    (created,) = await traced.wire.wait_for(
        Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == request["certificate_id"]
    )
    trace_id, parent = parent_of(created)
    assert trace_id == caller.trace_id
    topic = traced.settings.topic

    def complete() -> bool:
        chain, _ = lineage(traced.spans, parent)
        return len(chain) == 2

    await eventually(complete)
    chain, beyond = lineage(traced.spans, parent)
    assert [span.name for span in chain] == [
        f"{topic(Topic.CERTIFICATE_CREATED)} create", f"{topic(Topic.PURCHASE_REQUESTED)} process"
    ]
    assert [span.kind for span in chain] == [SpanKind.PRODUCER, SpanKind.CONSUMER]
    assert beyond == caller.span_id  # the ledger's span is a child of the caller's


async def test_a_payment_its_activation_pdf_and_email_are_one_trace_through_three_workers(
    traced: Traced, workspace: str
) -> None:
    await configure(traced.db, workspace)
    request = messages.purchase(workspace)
    cid = request["certificate_id"]
    await traced.wire.send(Topic.PURCHASE_REQUESTED, request, headers=Caller.new().headers)
    await traced.wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == cid)
    caller = Caller.new()
    await traced.wire.send(
        Topic.PAYMENT_COMPLETED, messages.payment(workspace, cid, amount=request["amount"]), headers=caller.headers
    )
    published = {
        topic: (await traced.wire.wait_for(topic, lambda b: b["certificate_id"] == cid))[0]
        for topic in (Topic.CERTIFICATE_ACTIVATED, Topic.PDF_READY, Topic.CERTIFICATE_SENT)
    }
    assert {parent_of(record)[0] for record in published.values()} == {caller.trace_id}

    topic = traced.settings.topic
    expected = [
        f"{topic(Topic.CERTIFICATE_SENT)} create",  # the relay, within the context stored by ...
        f"{topic(Topic.PDF_READY)} process",  # ... the mailer handling pdf-ready
        f"{topic(Topic.PDF_READY)} create",
        f"{topic(Topic.CERTIFICATE_ACTIVATED)} process",  # the documents worker
        f"{topic(Topic.CERTIFICATE_ACTIVATED)} create",
        f"{topic(Topic.PAYMENT_COMPLETED)} process",  # the ledger
    ]
    _, sent_parent = parent_of(published[Topic.CERTIFICATE_SENT])
    await eventually(lambda: len(lineage(traced.spans, sent_parent)[0]) == len(expected))
    chain, beyond = lineage(traced.spans, sent_parent)
    assert [span.name for span in chain] == expected
    assert beyond == caller.span_id
    assert {span.context.trace_id for span in chain} == {int(caller.trace_id, 16)}
    # each event's header names the relay's span within the same lineage
    for record in (published[Topic.PDF_READY], published[Topic.CERTIFICATE_ACTIVATED]):
        assert parent_of(record)[1] in {_hex(span.context.span_id) for span in chain}

    documents, mailer = chain[3], chain[1]
    children = {
        span.name: _hex(span.parent.span_id)
        for span in traced.spans.get_finished_spans()
        if span.parent is not None and span.context.trace_id == int(caller.trace_id, 16)
        and span.name in {"render certificate pdf", "smtp send"}
    }
    assert children == {
        "render certificate pdf": _hex(documents.context.span_id),
        "smtp send": _hex(mailer.context.span_id),
    }


async def test_redeem_requests_decided_in_one_batch_each_keep_their_own_trace(
    traced: Traced, workspace: str
) -> None:
    callers = [Caller.new() for _ in range(6)]
    requests = [messages.redeem(workspace, "ABCDEFGHJKMN") for _ in callers]
    for request, caller in zip(requests, callers, strict=True):
        await traced.wire.send(Topic.BOOKING_REDEEM_REQUEST, request, headers=caller.headers)
    for request, caller in zip(requests, callers, strict=True):
        (reply,) = await traced.wire.wait_for(
            Topic.REDEMPTION_REJECTED, lambda b, r=request: b["request_id"] == r["request_id"]
        )
        assert parent_of(reply)[0] == caller.trace_id


async def test_an_outbox_row_keeps_the_traceparent_of_the_span_that_wrote_it(db: AsyncEngine) -> None:
    tracer = TracerProvider().get_tracer("test")
    now = datetime.now(UTC)
    event = PdfReady(
        workspace_id="ws-trace", event_id=uuid4(), occurred_at=now, certificate_id=uuid4(),
        document_id=uuid4(), sha256="0" * 64, size_bytes=1,
    )
    async with db.connect() as connection:
        transaction = await connection.begin()
        with tracer.start_as_current_span("handling") as span:
            await OutboxWriter(connection, source="urn:test").add(event)
        untraced = event.model_copy(update={"event_id": uuid4()})
        await OutboxWriter(connection, source="urn:test").add(untraced)
        rows = dict((await connection.execute(
            select(outbox.c.headers["ce_id"].astext, outbox.c.headers)
            .where(outbox.c.headers["ce_id"].astext.in_([str(event.event_id), str(untraced.event_id)]))
        )).all())
        await transaction.rollback()
    context = span.get_span_context()
    ids = f"{trace.format_trace_id(context.trace_id)}-{trace.format_span_id(context.span_id)}"
    assert rows[str(event.event_id)]["traceparent"] == f"00-{ids}-{context.trace_flags:02x}"
    assert rows[str(event.event_id)]["ce_type"] == "giftcert.pdf-ready.v1"  # beside the CloudEvents headers
    assert "traceparent" not in rows[str(untraced.event_id)]
    assert UUID(rows[str(untraced.event_id)]["ce_id"]) == untraced.event_id


@pytest.fixture(scope="module")
def global_spans() -> InMemorySpanExporter:
    """An SDK installed as the process's global tracer provider, as a library might do: with tracing
    off the services must not reach it either."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


async def test_with_tracing_off_a_traced_message_is_not_traced_stored_or_exported(
    wire: Wire, db: AsyncEngine, workspace: str, global_spans: InMemorySpanExporter
) -> None:
    await configure(db, workspace)
    assert isinstance(trace.get_tracer_provider(), TracerProvider)
    request = messages.purchase(workspace)
    cid = request["certificate_id"]
    await wire.send(Topic.PURCHASE_REQUESTED, request, headers=Caller.new().headers)
    (created,) = await wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == cid)
    await wire.send(Topic.PAYMENT_COMPLETED, messages.payment(workspace, cid), headers=Caller.new().headers)
    (sent,) = await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == cid)
    await wire.quiet(1)
    assert "traceparent" not in created.headers
    assert "traceparent" not in sent.headers
    assert created.headers["ce_type"] == b"giftcert.certificate-created.v1"
    assert global_spans.get_finished_spans() == ()
