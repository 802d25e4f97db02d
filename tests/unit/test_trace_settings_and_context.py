"""Tracing is off unless an OTLP endpoint is configured; the trace context of the current span is what
the outbox stores, and what the relay makes current again."""

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from giftcert.messaging.trace_context import continuing, current_trace_headers
from giftcert.settings import Settings
from giftcert_services.runtime.tracing import (
    service_resource,
    tracer_provider_from_settings,
    traces_endpoint,
)

OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER",
    "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
)


@pytest.fixture(autouse=True)
def _no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIFTCERT_OTEL_ENDPOINT", raising=False)
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_by_default_there_is_no_endpoint_and_no_tracer_provider() -> None:
    assert Settings().otel_endpoint is None
    assert traces_endpoint(Settings()) is None
    assert tracer_provider_from_settings(Settings(), ("ledger",)) is None


@pytest.mark.parametrize(
    ("environ", "setting", "endpoint"),
    [
        ({}, "http://collector:4318", "http://collector:4318/v1/traces"),
        ({}, "http://collector:4318/", "http://collector:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}, None, "http://otel:4318/v1/traces"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://otel:4318/custom"}, None, "http://otel:4318/custom"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}, "http://ours:4318", "http://ours:4318/v1/traces"),
        ({"OTEL_SDK_DISABLED": "true"}, "http://collector:4318", None),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}, None, None),
    ],
)
def test_the_endpoint_comes_from_our_setting_else_the_standard_variables(
    environ: dict[str, str], setting: str | None, endpoint: str | None
) -> None:
    assert traces_endpoint(Settings(otel_endpoint=setting), environ) == endpoint


def test_with_an_endpoint_the_provider_exports_and_names_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = tracer_provider_from_settings(Settings(otel_endpoint="http://127.0.0.1:1"), ("documents", "mailer"))
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "giftcert-documents-mailer"
    finally:
        provider.shutdown()
    monkeypatch.setenv("OTEL_SERVICE_NAME", "gift-docs")
    assert service_resource(("documents",)).attributes["service.name"] == "gift-docs"


def test_outside_any_span_there_are_no_trace_headers() -> None:
    assert current_trace_headers() == {}


def test_within_a_span_the_trace_headers_are_its_traceparent() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handling") as span:
        headers = current_trace_headers()
    context = span.get_span_context()
    ids = f"{trace.format_trace_id(context.trace_id)}-{trace.format_span_id(context.span_id)}"
    assert headers == {"traceparent": f"00-{ids}-{context.trace_flags:02x}"}
    assert context.trace_flags.sampled


def test_a_span_started_while_continuing_stored_headers_is_their_child() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    stored = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "ce_id": "e-1"}
    with continuing(stored):
        tracer.start_span("publish").end()
    with continuing({"ce_id": "e-2"}):  # a row written without tracing: a trace of its own
        tracer.start_span("publish alone").end()
    child, alone = exporter.get_finished_spans()
    assert trace.format_trace_id(child.context.trace_id) == "0af7651916cd43dd8448eb211c80319c"
    assert child.parent is not None
    assert trace.format_span_id(child.parent.span_id) == "b7ad6b7169203331"
    assert alone.parent is None
    assert trace.get_current_span() is trace.INVALID_SPAN  # the stored context did not stay current
