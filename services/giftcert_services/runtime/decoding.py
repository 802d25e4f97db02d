"""How a consumed record becomes a message, one at a time or a batch at a time.

Header values that are null or not UTF-8 never break parsing, and a body that is not JSON is passed
on as bytes, so every record reaches validation and, if it fails there, its dead letter with the
original record. A batch is validated record by record against the topic's message model
(`validated`): a record that is not a valid message never spoils its batch. The handler gets the
valid messages in arrival order and the consumption middleware dead-letters the others; a batch
whose handler fails for good is split, each message handed to the handler alone (`single`), so only
the one at fault is dead-lettered."""

import copy
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord
from faststream.message import StreamMessage
from pydantic import BaseModel, ValidationError

Record: TypeAlias = "ConsumerRecord[Any, Any]"
Records: TypeAlias = tuple[Record, ...]


def _readable_headers(record: Record) -> Record:
    """The record itself when every header value is UTF-8 (nearly always: copying each record cost
    the ledger more than its parsing), else a copy with null values empty and the others made UTF-8."""
    try:
        for _, value in record.headers:
            value.decode()
    except (AttributeError, UnicodeDecodeError):  # AttributeError: a null value
        return dataclasses.replace(
            record, headers=[(k, (v or b"").decode("utf-8", "replace").encode()) for k, v in record.headers]
        )
    return record


def json_or_bytes(body: bytes) -> Any:
    """The body as JSON, or the bytes themselves when they are not JSON (validation refuses them)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return body


async def parse_leniently(record: Record, original: Any) -> StreamMessage[Any]:
    """FastStream's parser, made lenient with header values."""
    message: StreamMessage[Any] = await original(_readable_headers(record))
    message.raw_message = record
    return message


async def decode_json(message: StreamMessage[Any], original: Any) -> Any:
    del original
    return json_or_bytes(message.body)


async def parse_batch_leniently(records: Records, original: Any) -> StreamMessage[Records]:
    """FastStream's batch parser, made lenient with header values."""
    message: StreamMessage[Records] = await original(tuple(_readable_headers(r) for r in records))
    message.raw_message = records
    return message


def validated(model: type[BaseModel], body: bytes) -> BaseModel:
    """The body as a `model`, parsed by pydantic's own JSON parser (in one go, faster than Python's
    parser then validation: docs/benchmarks.md). Where that parser refuses text that Python's
    accepts (a lone surrogate escape, `NaN`), Python's parser has the last word, as for a single
    message."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        if error.errors()[0]["type"] != "json_invalid":
            raise
    return model.model_validate(json_or_bytes(body))


class ValidatedBatch(list[BaseModel]):
    """The valid messages of a batch, with `records` aligned to them, and `poison`: the records that
    failed validation, each with its error."""

    def __init__(
        self, messages: list[BaseModel], records: Records, poison: list[tuple[Record, ValidationError]]
    ) -> None:
        super().__init__(messages)
        self.records = records
        self.poison = poison


BatchDecoder = Callable[[StreamMessage[Records], Any], Awaitable[ValidatedBatch]]


async def validated_batch(message: StreamMessage[Any]) -> ValidatedBatch:
    """The batch as `batch_decoder` made it. FastStream decodes a message once and keeps the
    result, so the consumption middleware, the tracing and the handler all get the same one."""
    batch = await message.decode()
    if not isinstance(batch, ValidatedBatch):
        raise TypeError(f"a batch subscriber needs a batch_decoder, not {type(batch).__name__}")
    return batch


def batch_decoder(model: type[BaseModel]) -> BatchDecoder:
    async def decode(message: StreamMessage[Records], original: Any) -> ValidatedBatch:
        del original
        messages: list[BaseModel] = []
        kept: list[Record] = []
        poison: list[tuple[Record, ValidationError]] = []
        for record in message.raw_message:
            try:
                messages.append(validated(model, record.value or b""))
            except ValidationError as error:
                poison.append((record, error))
            else:
                kept.append(record)
        return ValidatedBatch(messages, tuple(kept), poison)

    return decode


def single(batch_message: StreamMessage[Records], record: Record) -> StreamMessage[Records]:
    """A copy of a batch's message that holds only `record` (and decodes anew)."""
    alone = copy.copy(batch_message)
    alone.raw_message = (record,)
    alone.body = [record.value or b""]
    return alone
