"""OpenTelemetry tracing of a worker process: off unless an OTLP endpoint is configured.

- On: `GIFTCERT_OTEL_ENDPOINT` (a collector's base URL, spans to `<it>/v1/traces`), else the standard
  `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`; `OTEL_SDK_DISABLED=true` or
  `OTEL_TRACES_EXPORTER=none` turn it off again. Spans go by OTLP/HTTP (protobuf) in batches; the
  other standard variables (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
  `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`) apply as the SDK reads them.
- Off: no tracer provider at all. The broker gets no telemetry middleware, nothing creates a span,
  the outbox stores no trace context and no exporter thread runs.
- Consumer and producer spans are FastStream's own (`KafkaTelemetryMiddleware`): a `process` span
  per message, child of the message's `traceparent` header, current while the handler runs (so the
  outbox rows it writes carry it); `create` and `publish` spans per published message, whose
  `traceparent` header they set. The relay makes each row's stored context current while it
  publishes that row (`continuing`, giftcert.messaging.trace_context), so the published event is a
  child of the handler that wrote it.
"""

import os
from collections.abc import Mapping, Sequence
from importlib.metadata import version

from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from giftcert.mail.outgoing import OutgoingEmail
from giftcert.mail.sender import SendEmail
from giftcert.settings import Settings

TRACES_PATH = "v1/traces"
TRACER_NAME = "giftcert"
_PROPAGATOR = TraceContextTextMapPropagator()


def traces_endpoint(settings: Settings, environ: Mapping[str, str] = os.environ) -> str | None:
    """Where spans go, or None: tracing off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return None
    if settings.otel_endpoint:
        return f"{settings.otel_endpoint.rstrip('/')}/{TRACES_PATH}"
    if traces := environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return traces
    if base := environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return f"{base.rstrip('/')}/{TRACES_PATH}"
    return None


def service_resource(services: Sequence[str]) -> Resource:
    """`service.name` is `giftcert-<the services>` unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES)
    names it."""
    ours = Resource.create({SERVICE_NAME: "-".join(("giftcert", *services)), SERVICE_VERSION: version("giftcert")})
    return ours.merge(OTELResourceDetector().detect())


def tracer_provider_from_settings(settings: Settings, services: Sequence[str]) -> SdkTracerProvider | None:
    """A provider exporting by OTLP, or None when tracing is off. Its owner shuts it down (which
    flushes what is still batched)."""
    endpoint = traces_endpoint(settings)
    if endpoint is None:
        return None
    provider = SdkTracerProvider(resource=service_resource(services))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def message_spans(provider: TracerProvider) -> KafkaTelemetryMiddleware:
    """FastStream's consumer and producer spans. Its message counters are left out: the Prometheus
    metrics count messages already (giftcert_messages_total)."""
    return KafkaTelemetryMiddleware(tracer_provider=provider, include_messages_counters=False)


def traced_sending(send: SendEmail, provider: TracerProvider) -> SendEmail:
    """`send` within a client span `smtp send`, child of the current one (the pdf-ready being handled)."""
    tracer: Tracer = provider.get_tracer(TRACER_NAME)

    async def send_traced(message: OutgoingEmail) -> None:
        with tracer.start_as_current_span("smtp send", kind=SpanKind.CLIENT):
            await send(message)

    return send_traced
