"""The W3C trace context (`traceparent`, `tracestate`) of the current span, as message headers.

The outbox writer stores these with each event it writes, so the relay, perhaps in another process and
later, publishes the event as a child of the span that caused it: one trace from the inbound message,
through its transaction, to every event and the workers downstream. Only the trace context, never
baggage. Without a current span (tracing off, or nothing traced) there is nothing to store: no header,
and no cost beyond reading the current context."""

from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


def current_trace_headers() -> dict[str, str]:
    headers: dict[str, str] = {}
    _PROPAGATOR.inject(headers)
    return headers
