"""The log fields of the message being handled, for every line logged while it is handled.

`MessageLogContext` sets them in a context variable for the time of one message and restores the
previous value after it, whatever happens, and never fails the message: the body decoded here is the
one the handler gets (FastStream caches it). The JSON log formatter (json_logs.py) reads them. They
are identifiers only: the topic, partition and offset, `workspace_id`, `certificate_id` and a
`message_id` (an event's `ce_id`, else the body's idempotency key: `event_id`, `request_id`,
`payment_id`, `tick_id` or, for a purchase, `certificate_id`). Never another body field: a
booking-redeem-request carries a redemption code.

FastStream logs its `Processed` line after every middleware has finished, outside this scope; its
per-message `extra` (its log context) gets the same fields, with the trace and span ids, under one key
(FASTSTREAM_EXTRA), so that line carries them too. Its `Received` line comes before: topic only."""

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from aiokafka import ConsumerRecord
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from opentelemetry import trace

MAX_FIELD = 128  # a hostile message may carry a megabyte where an id belongs
ID_FIELDS = ("event_id", "request_id", "payment_id", "tick_id", "certificate_id")

FASTSTREAM_EXTRA = "giftcert_fields"  # the `extra` key of FastStream's per-message lines that holds ours

MESSAGE_FIELDS: ContextVar[Mapping[str, str | int] | None] = ContextVar("giftcert_message_fields", default=None)


def _text(value: Any) -> str | None:
    return value[:MAX_FIELD] if isinstance(value, str) and value else None


def current_span_ids() -> dict[str, str | int]:
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return {}
    return {"trace_id": trace.format_trace_id(span.trace_id), "span_id": trace.format_span_id(span.span_id)}


def message_fields(record: ConsumerRecord[Any, Any], headers: Mapping[str, Any], body: Any) -> dict[str, str | int]:
    fields: dict[str, str | int] = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    values = body if isinstance(body, dict) else {}
    for name in ("workspace_id", "certificate_id"):
        if (value := _text(values.get(name))) is not None:
            fields[name] = value
    message_id = _text(headers.get("ce_id")) or next(
        (value for name in ID_FIELDS if (value := _text(values.get(name))) is not None), None
    )
    if message_id is not None:
        fields["message_id"] = message_id
    return fields


def batch_fields(records: tuple[ConsumerRecord[Any, Any], ...], messages: Any) -> dict[str, str | int]:
    """A batch's: its topic and size, and its workspace when all its messages share one."""
    fields: dict[str, str | int] = {"topic": records[0].topic, "batch_size": len(records)}
    workspaces = {getattr(m, "workspace_id", None) for m in messages} if isinstance(messages, list) else set()
    if len(workspaces) == 1 and (workspace := _text(workspaces.pop())) is not None:
        fields["workspace_id"] = workspace
    return fields


def _fields(msg: StreamMessage[Any], body: Any) -> dict[str, str | int]:
    raw = msg.raw_message
    if isinstance(raw, tuple):
        return batch_fields(raw, body) if raw else {}
    return message_fields(raw, msg.headers, body)


class MessageLogContext(BaseMiddleware):
    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        # log fields are a courtesy: whatever goes wrong here, the message goes on to its handler
        try:
            body = await msg.decode()  # decoded once: FastStream caches it for the handler
            fields = _fields(msg, body)
        except Exception:  # noqa: BLE001
            fields = {}
        token = MESSAGE_FIELDS.set(fields)
        faststream_fields = self.context.get_local("log_context")
        if isinstance(faststream_fields, dict):  # its `Processed` line comes after this scope: give it ours
            faststream_fields[FASTSTREAM_EXTRA] = fields | current_span_ids()
        try:
            return await call_next(msg)
        finally:
            MESSAGE_FIELDS.reset(token)
