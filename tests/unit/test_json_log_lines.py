"""JSON log lines: one object per line with time, level, logger and message; the fields of the message
being handled and of the current span where known; exceptions escaped into the JSON."""

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace

import pytest
from aiokafka import ConsumerRecord
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from giftcert_services.runtime.json_logs import JsonFormatter, configure_logging
from giftcert_services.runtime.message_context import FASTSTREAM_EXTRA, MESSAGE_FIELDS, batch_fields, message_fields


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("giftcert.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def _entries(stream: io.StringIO) -> list[dict]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def _record(topic: str = "giftcert.payment-completed", headers: tuple = ()) -> ConsumerRecord:
    return ConsumerRecord(
        topic=topic, partition=1, offset=42, timestamp=0, timestamp_type=0, key=None, value=b"{}",
        checksum=None, serialized_key_size=0, serialized_value_size=2, headers=headers,
    )


def test_a_line_has_utc_time_level_logger_and_the_formatted_message(lines) -> None:
    logger, stream = lines
    logger.warning("relayed %s events", 3)
    (entry,) = _entries(stream)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "giftcert.test.json"
    assert entry["message"] == "relayed 3 events"
    assert entry["time"].endswith("Z")
    assert datetime.fromisoformat(entry["time"]).utcoffset().total_seconds() == 0
    assert not {"trace_id", "span_id", "workspace_id", "topic", "exception"} & set(entry)


def test_an_exception_its_traceback_and_line_breaks_stay_inside_one_json_line(lines) -> None:
    logger, stream = lines

    def fail() -> None:
        raise ValueError('broken "quote"\nsecond line\u2028third')

    try:
        fail()
    except ValueError:
        logger.exception("handler failed\nfor message %s", "m-1")
    logger.info("next")
    first, second = _entries(stream)
    assert first["message"] == "handler failed\nfor message m-1"
    assert first["exception"].startswith("Traceback (most recent call last):")
    assert 'ValueError: broken "quote"\nsecond line\u2028third' in first["exception"]
    assert second["message"] == "next"
    assert stream.getvalue().isascii()  # so no line separator of any kind can split an entry


def test_the_fields_of_the_message_being_handled_are_on_its_lines_and_only_there(lines) -> None:
    logger, stream = lines
    body = {
        "workspace_id": "acme", "certificate_id": "c-1", "payment_id": "pay-7",
        "code": "ABCDEFGHJKMN", "amount": {"minor": 5000, "currency": "EUR"},
    }
    token = MESSAGE_FIELDS.set(message_fields(_record(), {}, body))
    try:
        logger.info("payment parked")
    finally:
        MESSAGE_FIELDS.reset(token)
    logger.info("between messages")
    inside, outside = _entries(stream)
    assert inside["topic"] == "giftcert.payment-completed"
    assert (inside["partition"], inside["offset"]) == (1, 42)
    assert (inside["workspace_id"], inside["certificate_id"], inside["message_id"]) == ("acme", "c-1", "pay-7")
    assert "ABCDEFGHJKMN" not in stream.getvalue()  # no body field but identifiers
    assert not {"topic", "workspace_id", "message_id"} & set(outside)


def test_a_batch_is_named_by_its_topic_and_size_and_its_workspace_when_it_has_one() -> None:
    records = (_record("giftcert.booking-redeem-request"),) * 3
    one = [SimpleNamespace(workspace_id="shop-1", code="ABCDEFGHJKMN")] * 3
    assert batch_fields(records, one) == {"topic": "giftcert.booking-redeem-request", "batch_size": 3,
                                          "workspace_id": "shop-1"}
    two = [SimpleNamespace(workspace_id="shop-1"), SimpleNamespace(workspace_id="shop-2")]
    assert "workspace_id" not in batch_fields(records, two)


def test_a_line_about_one_message_of_a_batch_names_that_message(lines) -> None:
    logger, stream = lines
    token = MESSAGE_FIELDS.set(batch_fields((_record(),) * 2, []))
    try:
        logger.info("payment parked", extra={"about_message": {"message_id": "pay-2", "certificate_id": "c-2"}})
    finally:
        MESSAGE_FIELDS.reset(token)
    (entry,) = _entries(stream)
    assert (entry["batch_size"], entry["message_id"], entry["certificate_id"]) == (2, "pay-2", "c-2")


def test_the_message_id_is_an_events_ce_id_else_its_idempotency_key() -> None:
    assert message_fields(_record(), {"ce_id": "e-1"}, {"certificate_id": "c"})["message_id"] == "e-1"
    assert message_fields(_record(), {}, {"request_id": "r", "certificate_id": "c"})["message_id"] == "r"
    assert message_fields(_record(), {}, {"tick_id": "t"})["message_id"] == "t"
    assert message_fields(_record(), {}, {"certificate_id": "c"})["message_id"] == "c"  # a purchase request
    assert "message_id" not in message_fields(_record(), {}, b"{not json")
    long = message_fields(_record(), {}, {"workspace_id": "w" * 10_000, "certificate_id": 7})
    assert len(long["workspace_id"]) == 128
    assert "certificate_id" not in long


def test_a_line_logged_within_a_span_carries_its_trace_and_span_ids(lines) -> None:
    logger, stream = lines
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handling") as span:
        logger.info("inside")
    (entry,) = _entries(stream)
    context = span.get_span_context()
    assert entry["trace_id"] == trace.format_trace_id(context.trace_id)
    assert entry["span_id"] == trace.format_span_id(context.span_id)
    assert len(entry["trace_id"]) == 32
    assert len(entry["span_id"]) == 16


def test_faststreams_per_message_fields_are_kept_with_ours_it_was_given(lines) -> None:
    logger, stream = lines
    extra = {"topic": "giftcert.void", "group_id": "giftcert.ledger.void", "message_id": "5-17"}
    logger.info("Received", extra=extra)
    ours = {"topic": "giftcert.void", "workspace_id": "acme", "message_id": "r-1", "trace_id": "ab" * 16}
    logger.info("Processed", extra=extra | {FASTSTREAM_EXTRA: ours})
    received, processed = _entries(stream)
    assert (received["topic"], received["group_id"], received["faststream_message_id"]) == (
        "giftcert.void", "giftcert.ledger.void", "5-17"
    )
    assert "workspace_id" not in received
    assert processed["faststream_message_id"] == "5-17"
    assert (processed["workspace_id"], processed["message_id"], processed["trace_id"]) == ("acme", "r-1", "ab" * 16)


def test_configured_for_json_faststreams_own_logger_writes_json_to_stderr(capsys: pytest.CaptureFixture) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("faststream").handlers[:])
    try:
        configure_logging("json", "INFO")
        logging.getLogger("faststream").info("FastStream app started successfully")
        logging.getLogger("giftcert.test").debug("below the level")
    finally:
        root.handlers[:], faststream_handlers = saved[0], saved[2]
        root.setLevel(saved[1])
        logging.getLogger("faststream").handlers[:] = faststream_handlers
        logging.getLogger("faststream").propagate = False
        logging.captureWarnings(capture=False)
    err = capsys.readouterr().err
    (entry,) = [json.loads(line) for line in err.splitlines()]
    assert (entry["logger"], entry["message"]) == ("faststream", "FastStream app started successfully")
