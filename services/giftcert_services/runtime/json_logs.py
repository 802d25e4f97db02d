"""A process's log lines: one JSON object per line (`GIFTCERT_LOG_FORMAT=json`) or human text.

Each JSON line has `time` (RFC 3339, UTC, milliseconds), `level`, `logger` and `message`; where known
also the fields of the message being handled (message_context.py: `topic`, `partition`, `offset`,
`workspace_id`, `certificate_id`, `message_id`), FastStream's own (`topic`, `group_id`; its
`message_id` as `faststream_message_id`), the current span's `trace_id` and `span_id` (32 and 16 hex
digits, as in `traceparent`; on FastStream's `Processed` line, those of the message's span), and an
`exception` with the traceback. Everything is escaped into the
JSON, non-ASCII too, so a line never breaks whatever a message says. The fields added here are
identifiers only; what a message text holds is its logger's responsibility (no code is ever logged).
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from giftcert_services.runtime.message_context import FASTSTREAM_EXTRA, MESSAGE_FIELDS, current_span_ids

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# what FastStream passes as `extra` to its per-message lines; its message_id is `<offset>-<timestamp>`
FASTSTREAM_FIELDS = {"topic": "topic", "group_id": "group_id", "message_id": "faststream_message_id"}
FASTSTREAM_LOGGERS = ("faststream", "faststream.access", "faststream.access.kafka")
ABOUT_MESSAGE = "about_message"
ABOUT_FIELDS = ("workspace_id", "certificate_id", "message_id")
"""`extra={"about_message": {...}}`: the identifiers of the one message (of a batch) a line is about,
over those of the message or batch being handled."""


def rfc3339_utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": rfc3339_utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for attribute, field in FASTSTREAM_FIELDS.items():
            if value := getattr(record, attribute, None):
                entry[field] = value
        handling = MESSAGE_FIELDS.get()
        if handling is not None:
            entry |= {**handling, **current_span_ids()}
        else:
            entry |= getattr(record, FASTSTREAM_EXTRA, None) or current_span_ids()
        about = getattr(record, ABOUT_MESSAGE, None)  # a line about one message of a batch names it itself
        if isinstance(about, dict):
            entry |= {field: str(about[field]) for field in ABOUT_FIELDS if about.get(field) is not None}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def configure_logging(log_format: LogFormat, level: str) -> None:
    """The root logger writes to stderr in `log_format`. For JSON, FastStream's own loggers (which
    write text to stderr and stdout by themselves) and Python's warnings go through it too."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
        for name in FASTSTREAM_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
        logging.captureWarnings(capture=True)
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
