"""Tracing a batch. FastStream gives a batch one `process` span, in a trace of its own linked to its
messages' traces. So that each message's trace goes on through what it caused, every valid message
of the batch gets a `process` span of its own too, child of its `traceparent` header and linked to the
batch's span; the events decided for it carry that span's context into the outbox. With tracing off
there are no spans and no trace headers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from faststream.message import StreamMessage
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from giftcert_services.runtime.decoding import validated_batch
from giftcert_services.runtime.tracing import TRACER_NAME

_PROPAGATOR = TraceContextTextMapPropagator()


Traces = list[dict[str, str]] | None
"""The trace headers of each message of a batch, in its order; None with tracing off."""


@asynccontextmanager
async def message_traces(provider: TracerProvider | None, message: StreamMessage[Any]) -> AsyncIterator[Traces]:
    """The trace headers of each valid message's span, aligned with the handler's list."""
    if provider is None:
        yield None
        return
    batch = await validated_batch(message)
    tracer = provider.get_tracer(TRACER_NAME)
    batch_span = trace.get_current_span().get_span_context()
    links = [Link(batch_span)] if batch_span.is_valid else []
    spans, traces = [], []
    for record in batch.records:
        carrier = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers}
        span = tracer.start_span(
            f"{record.topic} process", context=_PROPAGATOR.extract(carrier), kind=SpanKind.CONSUMER, links=links
        )
        headers: dict[str, str] = {}
        _PROPAGATOR.inject(headers, context=trace.set_span_in_context(span))
        spans.append(span)
        traces.append(headers)
    try:
        yield traces
    finally:
        for span in spans:
            span.end()
