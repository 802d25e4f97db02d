"""A `giftcert run` worker as production runs it: every output line is one JSON object, and a line
logged while a message is handled carries that message's fields and trace; the spans reach an OTLP
collector (a sink here) over HTTP, the last of them flushed on SIGTERM. Once started, it leaves its
startup objects out of later garbage collections, and says how many."""

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from uuid import uuid4

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Wire
from tests.e2e.conftest import Launcher, Worker, environment

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


class OtlpSink:
    """An OTLP/HTTP collector that keeps what it is sent to /v1/traces."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/traces":
                    sink.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def spans(self) -> list[tuple[str, Any]]:
        """Each exported span with the service.name of its resource."""
        found = []
        for body in self.bodies:
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                service = next(
                    a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"
                )
                found += [(service, span) for scope in resource_spans.scope_spans for span in scope.spans]
        return found

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def collector() -> Iterator[OtlpSink]:
    with OtlpSink() as sink:
        yield sink


async def _ledger_writing_json(launch: Launcher, env: dict[str, str], folder: Path) -> Worker:
    """A started ledger with `giftcert run`'s own log format, JSON (`environment` asks for text)."""
    del env["GIFTCERT_LOG_FORMAT"]
    ledger = Worker(("ledger",), env, folder / "ledger.log")
    launch.workers.append(ledger)  # stopped after the test, whatever happens
    return await ledger.wait_until_started()


async def test_a_worker_logs_json_lines_with_the_trace_of_the_message_it_handles(
    launch: Launcher, wire: Wire, settings: Settings, workspace: str, collector: OtlpSink, tmp_path: Path
) -> None:
    ledger = await _ledger_writing_json(launch, environment(settings, otel_endpoint=collector.url), tmp_path)
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    paid = requests.payment(workspace, str(uuid4()))  # no purchase yet: parked, and logged
    await wire.send(
        Topic.PAYMENT_COMPLETED, paid, headers=[("traceparent", f"00-{trace_id}-{caller_span}-01".encode())]
    )
    await ledger.wait_for_output(r"parked: certificate")
    await ledger.wait_for_output(r'"message": "Processed"')
    assert ledger.stop() == 0, ledger.output[-3000:]

    lines = ledger.output.splitlines()
    entries = [json.loads(line) for line in lines]  # every line, FastStream's and aiokafka's too
    assert len(entries) > 10
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    topic = settings.topic(Topic.PAYMENT_COMPLETED)
    (parked,) = [entry for entry in entries if "parked" in entry["message"]]
    assert parked["logger"] == "giftcert.payment"
    assert parked["level"] == "INFO"
    assert parked["topic"] == topic
    assert parked["workspace_id"] == workspace
    assert parked["certificate_id"] == paid["certificate_id"]
    assert parked["message_id"] == paid["payment_id"]
    assert parked["trace_id"] == trace_id
    assert len(parked["span_id"]) == 16
    assert parked["span_id"] != caller_span  # the ledger's own span
    (processed,) = [entry for entry in entries if entry["message"] == "Processed" and entry.get("topic") == topic]
    assert processed["logger"] == "giftcert.broker"  # FastStream's line about the batch, after its span ended
    assert (processed["workspace_id"], processed["batch_size"]) == (workspace, 1)
    assert processed["trace_id"] != trace_id  # a batch's span is a trace of its own, linked to its messages

    exported = {span.span_id.hex(): (service, span) for service, span in collector.spans()}
    service, span = exported[parked["span_id"]]
    assert service == "giftcert-ledger"
    assert span.name == f"{topic} process"
    assert span.trace_id.hex() == trace_id
    assert span.parent_span_id.hex() == caller_span


async def test_a_started_worker_leaves_its_startup_objects_out_of_later_garbage_collections(
    launch: Launcher, settings: Settings, tmp_path: Path
) -> None:
    ledger = await _ledger_writing_json(launch, environment(settings), tmp_path)
    await ledger.wait_for_output(r"startup objects left out of garbage collections")
    assert ledger.stop() == 0, ledger.output[-3000:]

    (frozen,) = [
        entry for entry in map(json.loads, ledger.output.splitlines()) if entry["logger"] == "giftcert.heap"
    ]
    assert int(frozen["message"].rpartition(" ")[2]) > 50_000  # a worker's modules, schemas, clients
