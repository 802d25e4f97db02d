"""The W3C trace context (`traceparent`, `tracestate`) of the current span, as message headers.

The outbox writer stores these with each event it writes, so the relay, perhaps in another process and
later, publishes the event as a child of the span that caused it: one trace from the inbound message,
through its transaction, to every event and the workers downstream. Only the trace context, never
baggage. Without a current span (tracing off, or nothing traced) there is nothing to store: no header,
and no cost beyond reading the current context."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


def current_trace_headers() -> dict[str, str]:
    headers: dict[str, str] = {}
    _PROPAGATOR.inject(headers)
    return headers


def context_of(headers: Mapping[str, str]) -> Context:
    """The trace context stored in `headers` (empty without a `traceparent`)."""
    return _PROPAGATOR.extract(dict(headers))


@contextmanager
def continuing(headers: Mapping[str, str] | None) -> Iterator[None]:
    """The trace context stored in `headers` (an outbox row's, a message's) is current within: spans
    started here are its children. Nothing happens without a `traceparent`."""
    if not headers or "traceparent" not in headers:
        yield
        return
    token = context.attach(context_of(headers))
    try:
        yield
    finally:
        context.detach(token)
