"""The outbox in memory (giftcert.store.outbox.OutboxWriter): keeps each event with its topic,
Kafka key and CloudEvents headers, in the order written, numbered by its certificate's counter
(`sequence`) as the store numbers it."""

from collections.abc import Mapping, Sequence

from giftcert.messaging.outbox import kafka_key
from giftcert_contracts.cloudevents import cloudevent_headers
from giftcert_contracts.outbound import Event
from tests.fakes.state import OutboxRecord, Transaction


class FakeOutboxWriter:
    def __init__(self, tx: Transaction, *, source: str) -> None:
        self._tx = tx
        self._source = source

    async def add(
        self, *events: Event, key: str | None = None, traces: Sequence[Mapping[str, str]] | None = None
    ) -> None:
        state = self._tx.state
        given: set[object] = set()
        for event, trace in zip(events, traces or [{}] * len(events), strict=True):
            if event.event_id in given:  # one event given twice is one row, as in the store
                continue
            given.add(event.event_id)
            sequence = None
            if event.subject is not None:
                sequence = state.sequences[event.subject] = state.sequences.get(event.subject, 0) + 1
            state.outbox.append(OutboxRecord(
                topic=event.topic,
                key=kafka_key(event, key or str(getattr(event, "request_id", event.event_id))),
                headers=cloudevent_headers(event, source=self._source) | dict(trace),
                event=event.model_copy(update={"sequence": sequence}),
            ))
