"""How every subscriber consumes: at-least-once delivery turned into effectively-once effects.

- Subscribers use `AckPolicy.MANUAL`: FastStream never commits an offset by itself. This
  middleware commits it only after the handler returned, that is after its database commit.
- A transient fault (database, broker or mail server unavailable) is retried with backoff for as
  long as it lasts; it is never dead-lettered and the offset is not committed meanwhile.
- A message that cannot be parsed or validated goes to `<topic>.dlq` with its original bytes and
  headers plus `error_type`/`error_detail`, then its offset is committed and consumption goes on.
  So does one whose handler keeps failing for another reason after `handler_max_attempts` tries.
- A batch subscriber's poll is one unit: its invalid records are dead-lettered, its valid messages
  handled together (one transaction), or one at a time when that fails for good, so that only the
  message at fault is dead-lettered (decoding.py); then the offsets of the whole poll are committed.
- Cancellation (SIGTERM, shutdown) is never caught: the unfinished message is not committed and is
  delivered again; the inbox makes the repeat harmless. A commit that fails after a rebalance
  (CommitFailedError) is logged and ignored for the same reason.
- Each outcome is counted where it is decided (`giftcert_messages_total{topic, outcome}`), and each
  handler attempt is timed, labelled by the contract's base topic name so dashboards do not depend on
  a deployment's topic prefix.
"""

import asyncio
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
from giftcert_services.runtime.decoding import single, validated_batch
from giftcert_services.runtime.failpoints import delay_point, failpoint, stall_point
from giftcert_services.runtime.faults import is_poison, is_transient

log = logging.getLogger("giftcert.consumption")

MAX_DETAIL = 2000


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
        raw = msg.raw_message
        first: ConsumerRecord[Any, Any] = raw[0] if isinstance(raw, tuple) else raw
        topic = self.settings.base_topic_by_name.get(first.topic)
        where = None if topic is None else topic.value
        label = where or first.topic
        at = f"{first.partition}@{first.offset}"
        await stall_point("stall_before_handler", where, at)
        await delay_point("delay_before_handler", where, at)
        if isinstance(raw, tuple):
            await self._consume_batch(call_next, msg, label, where)
            return None
        result, error = await self._attempts(call_next, msg, label, count=1)
        if error is not None:
            await self._dead_letter(raw, error, label)
        else:
            failpoint("after_db_commit", where)
        await self._commit(msg)
        return result

    async def _consume_batch(self, call_next: Any, msg: StreamMessage[Any], label: str, where: str | None) -> None:
        """The batch's invalid records are dead-lettered; its valid messages are handled together,
        or, when that fails for good, one at a time (decoding.py, `single`); then the offsets are committed."""
        batch = await validated_batch(msg)
        for record, invalid in batch.poison:
            await self._dead_letter(record, invalid, label)
        if batch.records:
            _, error = await self._attempts(
                call_next, msg, label, count=len(batch.records), give_up_at=1 if len(batch.records) > 1 else None
            )
            if error is not None:
                log.warning("a batch of %s on %s failed (%r): handling them one at a time",
                            len(batch.records), label, error)
                for record in batch.records:
                    _, error = await self._attempts(call_next, single(msg, record), label, count=1)
                    if error is not None:
                        await self._dead_letter(record, error, label)
            failpoint("after_db_commit", where)
        await self._commit(msg)

    async def _attempts(
        self, call_next: Any, msg: StreamMessage[Any], label: str, *, count: int, give_up_at: int | None = None
    ) -> tuple[Any, BaseException | None]:
        """Calls the handler until it succeeds: a transient fault is retried with backoff for as long
        as it lasts; a poison message or, after `give_up_at` (default: the handler_max_attempts
        setting) tries, any other error ends the attempts and is returned. `count` is how many
        messages `msg` holds, for the metrics."""
        limit = give_up_at or self.settings.handler_max_attempts
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                result = await call_next(msg)
            except Exception as error:
                HANDLER_SECONDS.labels(topic=label).observe(time.perf_counter() - started)
                if is_poison(error):
                    return None, error
                attempt += 1
                if not is_transient(error) and attempt >= limit:
                    log.exception("giving up on %s (%s) after %s attempts", label, _position(msg), attempt)
                    return None, error
                MESSAGES.labels(topic=label, outcome=RETRIED).inc(count)
                pause = backoff_seconds(
                    attempt, initial=self.settings.retry_initial_seconds, maximum=self.settings.retry_max_seconds
                )
                log.warning("retrying %s (%s) in %.2fs (attempt %s): %r", label, _position(msg), pause, attempt, error)
                await asyncio.sleep(pause)
            else:
                HANDLER_SECONDS.labels(topic=label).observe(time.perf_counter() - started)
                MESSAGES.labels(topic=label, outcome=HANDLED).inc(count)
                return result, None

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


def _position(msg: StreamMessage[Any], shown: int = 3) -> str:
    raw = msg.raw_message
    records = raw if isinstance(raw, tuple) else (raw,)
    where = ", ".join(f"{r.topic}:{r.partition}@{r.offset}" for r in records[:shown])
    return where + (f" and {len(records) - shown} more" if len(records) > shown else "")


def reliable_consumption(settings: Settings) -> type[ReliableConsumption]:
    return type("ConfiguredReliableConsumption", (ReliableConsumption,), {"settings": settings})
