"""How every subscriber consumes: at-least-once delivery turned into effectively-once effects.

- Subscribers use `AckPolicy.MANUAL`: FastStream never commits an offset by itself. This
  middleware commits it only after the handler returned, that is after its database commit.
- A transient fault (database, broker or mail server unavailable) is retried with backoff for as
  long as it lasts; it is never dead-lettered and the offset is not committed meanwhile.
- A message that cannot be parsed or validated goes to `<topic>.dlq` with its original bytes and
  headers plus `error_type`/`error_detail`, then its offset is committed and consumption goes on.
  So does one whose handler keeps failing for another reason after `handler_max_attempts` tries.
- Cancellation (SIGTERM, shutdown) is never caught: the unfinished message is not committed and is
  delivered again; the inbox makes the repeat harmless. A commit that fails after a rebalance
  (CommitFailedError) is logged and ignored for the same reason.
- Each outcome is counted where it is decided (`giftcert_messages_total{topic, outcome}`), and each
  handler attempt is timed, labelled by the contract's base topic name so dashboards do not depend on
  a deployment's topic prefix.
"""

import asyncio
import dataclasses
import json
import logging
import time
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from pydantic import ValidationError

from giftcert.metrics import DEAD_LETTERED, DEAD_LETTERS, HANDLED, HANDLER_SECONDS, MESSAGES, RETRIED
from giftcert.settings import Settings
from giftcert_contracts.topics import DEAD_LETTER_SUFFIX
from giftcert_services.runtime.backoff import backoff_seconds
from giftcert_services.runtime.failpoints import delay_point, failpoint, stall_point
from giftcert_services.runtime.faults import is_poison, is_transient

log = logging.getLogger("giftcert.consumption")

MAX_DETAIL = 2000


async def parse_leniently(record: ConsumerRecord[Any, Any], original: Any) -> StreamMessage[Any]:
    """FastStream's parser, but header values that are null or not UTF-8 do not break it: the
    message still reaches validation (and the DLQ, with its original record)."""
    safe = dataclasses.replace(
        record,
        headers=[(k, (v or b"").decode("utf-8", "replace").encode()) for k, v in record.headers],
    )
    message: StreamMessage[Any] = await original(safe)
    message.raw_message = record
    return message


async def decode_json(message: StreamMessage[Any], original: Any) -> Any:
    """The body as JSON; an undecodable body is passed on as bytes and fails validation."""
    del original
    try:
        return json.loads(message.body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return message.body


def describe_failure(error: BaseException, body: bytes) -> tuple[str, str]:
    """The `error_type` and `error_detail` a dead letter carries."""
    if isinstance(error, ValidationError):
        try:
            json.loads(body)
        except (ValueError, RecursionError) as decode_error:
            return "undecodable_json", (str(decode_error) or type(decode_error).__name__)[:MAX_DETAIL]
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<body>'}: {e['msg']}" for e in error.errors()
        )
        return "validation_error", problems[:MAX_DETAIL]
    return type(error).__name__, str(error)[:MAX_DETAIL]


class ReliableConsumption(BaseMiddleware):
    settings: Settings  # set by `reliable_consumption`

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        record: ConsumerRecord[Any, Any] = msg.raw_message
        topic = self.settings.base_topic_by_name.get(record.topic)
        where = None if topic is None else topic.value
        label = where or record.topic
        at = f"{record.partition}@{record.offset}"
        await stall_point("stall_before_handler", where, at)
        await delay_point("delay_before_handler", where, at)
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                result = await call_next(msg)
            except Exception as error:
                HANDLER_SECONDS.labels(topic=label).observe(time.perf_counter() - started)
                if is_poison(error):
                    await self._dead_letter(record, error, label)
                    break
                attempt += 1
                if not is_transient(error) and attempt >= self.settings.handler_max_attempts:
                    log.exception("giving up on %s@%s after %s attempts", record.topic, record.offset, attempt)
                    await self._dead_letter(record, error, label)
                    break
                MESSAGES.labels(topic=label, outcome=RETRIED).inc()
                pause = backoff_seconds(
                    attempt, initial=self.settings.retry_initial_seconds, maximum=self.settings.retry_max_seconds
                )
                log.warning(
                    "retrying %s@%s in %.2fs (attempt %s): %r", record.topic, record.offset, pause, attempt, error
                )
                await asyncio.sleep(pause)
            else:
                HANDLER_SECONDS.labels(topic=label).observe(time.perf_counter() - started)
                failpoint("after_db_commit", where)
                await self._commit(msg)
                MESSAGES.labels(topic=label, outcome=HANDLED).inc()
                return result
        await self._commit(msg)
        return None

    async def _commit(self, msg: StreamMessage[Any]) -> None:
        try:
            await msg.ack()
        except KafkaError as error:
            log.warning("offset commit failed (%r); the message will come again and the inbox absorbs it", error)

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], error: BaseException, label: str) -> None:
        error_type, detail = describe_failure(error, record.value or b"")
        headers = {k: (v or b"").decode("utf-8", "replace") for k, v in record.headers}
        headers |= {"error_type": error_type, "error_detail": detail.replace("\r", " ").replace("\n", " ")}
        broker: KafkaBroker = self.context.get("broker")
        attempt = 0
        while True:
            try:
                await broker.publish(
                    record.value or b"",
                    f"{record.topic}{DEAD_LETTER_SUFFIX}",
                    key=record.key,
                    headers=headers,
                )
            except Exception as publish_error:  # noqa: BLE001 - the broker may be away: retry
                attempt += 1
                log.warning("dead-letter publish failed (%r), retrying", publish_error)
                await asyncio.sleep(
                    backoff_seconds(
                        attempt, initial=self.settings.retry_initial_seconds, maximum=self.settings.retry_max_seconds
                    )
                )
            else:
                log.warning(
                    "dead-lettered %s@%s:%s (%s)", record.topic, record.partition, record.offset, error_type
                )
                MESSAGES.labels(topic=label, outcome=DEAD_LETTERED).inc()
                DEAD_LETTERS.labels(topic=label, error_type=error_type).inc()
                return


def reliable_consumption(settings: Settings) -> type[ReliableConsumption]:
    return type("ConfiguredReliableConsumption", (ReliableConsumption,), {"settings": settings})
