"""`giftcert demo` prints the service's events as they were published: by their timestamps, and one
certificate's events in their `sequence` order, which two relay lanes may stamp otherwise."""

import json

from giftcert.settings import Settings
from giftcert_services.integrator.walkthrough import EventPrinter
from giftcert_services.integrator.wire import Received


def _event(topic: str, timestamp_ms: int, **body: object) -> Received:
    return Received(f"giftcert.{topic}", None, json.dumps(body).encode(), {}, timestamp_ms)


def test_one_certificates_events_print_in_sequence_order_and_others_keep_their_places() -> None:
    printed: list[str] = []
    printer = EventPrinter(Settings(), printed.append)
    for record in (
        _event("hold-released", 100, certificate_id="c1", sequence=8),
        _event("certificate-sent", 101, certificate_id="c2", sequence=3),
        _event("certificate-redeemed", 102, certificate_id="c1", sequence=7),
        _event("dead-letter-ish", 103, detail="not numbered"),
    ):
        printer(record)
    printer.flush()
    assert [line.split()[1] for line in printed] == [
        "giftcert.certificate-redeemed", "giftcert.certificate-sent", "giftcert.hold-released",
        "giftcert.dead-letter-ish",
    ]
