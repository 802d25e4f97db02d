"""After a fault, every request topic is read again on every partition: a request the service can
only refuse is sent to each partition of each request topic, and its refusal awaited.

A fault can leave a consumer idle without any request of the stream going unanswered (its partitions
were quiet), and a check of the stream's requests alone would not see it. That happened: aiokafka looks
up where to start reading a newly assigned partition at the leader it last knew, and after a failover
it kept asking the old leader until its next periodic metadata refresh, five minutes by default; CI
once found 23 reactivations unanswered that way (GIFTCERT_KAFKA_METADATA_MAX_AGE_MS, decision 30).
The expiry tick is left out: a tick with nothing to expire publishes nothing to wait for."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from giftcert.domain.codes import ALPHABET, LENGTH
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Wire

UNKNOWN_CODE = ALPHABET[0] * LENGTH
"""Well formed and never issued: each probe names a new order, so no order reaches the guessing limit."""

@dataclass(frozen=True, slots=True)
class Probe:
    reply: Topic
    field: str
    """The field that ties the refusal to the request."""
    make: Callable[[str], dict[str, Any]]
    first: Callable[[str, dict[str, Any]], tuple[Topic, dict[str, Any]]] | None = None
    """A request the probe needs, sent before it (with its own key)."""


def _purchase_of(workspace: str, payment: dict[str, Any]) -> tuple[Topic, dict[str, Any]]:
    """A payment for a certificate never requested is parked for the grace period, not refused: the
    payment probe pays a certificate requested with it, one minor unit short."""
    return Topic.PURCHASE_REQUESTED, requests.purchase(workspace, certificate_id=payment["certificate_id"])


PROBES: dict[Topic, Probe] = {
    Topic.PURCHASE_REQUESTED: Probe(Topic.PURCHASE_REJECTED, "certificate_id",
                                    lambda ws: requests.purchase(ws, amount={"minor": 5000, "currency": "USD"})),
    Topic.PAYMENT_COMPLETED: Probe(Topic.PAYMENT_REJECTED, "payment_id", lambda ws: requests.payment(
        ws, str(uuid4()), amount={"minor": 4999, "currency": "EUR"}), first=_purchase_of),
    Topic.BOOKING_REDEEM_REQUEST: Probe(Topic.REDEMPTION_REJECTED, "request_id",
                                        lambda ws: requests.redeem(ws, UNKNOWN_CODE)),
    Topic.VOID: Probe(Topic.VOID_REJECTED, "request_id", lambda ws: requests.void(ws, str(uuid4()))),
    Topic.REACTIVATE: Probe(Topic.REACTIVATE_REJECTED, "request_id", lambda ws: requests.reactivate(ws, str(uuid4()))),
    Topic.BOOKING_HOLD_REQUEST: Probe(Topic.HOLD_REJECTED, "request_id", lambda ws: requests.hold(ws, UNKNOWN_CODE)),
    Topic.BOOKING_CAPTURE_REQUEST: Probe(Topic.CAPTURE_REJECTED, "request_id",
                                         lambda ws: requests.capture(ws, str(uuid4()))),
    Topic.BOOKING_RELEASE_REQUEST: Probe(Topic.RELEASE_REJECTED, "request_id",
                                         lambda ws: requests.release(ws, str(uuid4()))),
    Topic.BOOKING_REFUND_REQUEST: Probe(Topic.REFUND_REJECTED, "request_id",
                                        lambda ws: requests.refund(ws, f"order-{uuid4().hex[:8]}", str(uuid4()))),
}


async def silent_partitions(wire: Wire, workspace: str, *, timeout: float) -> list[str]:
    """The request topics' partitions whose probe got no refusal within `timeout` seconds."""

    async def answered(request: Topic, partition: int, probe: Probe) -> str | None:
        body = probe.make(workspace)
        if probe.first is not None:
            topic, needed = probe.first(workspace, body)
            await wire.send(topic, needed, key=needed["certificate_id"])
        await wire.send(request, body, key=body[probe.field], partition=partition)
        try:
            await wire.wait_for(probe.reply, lambda answer: answer.get(probe.field) == body[probe.field],
                                timeout=timeout)
        except AssertionError:
            return f"{request} partition {partition}: no {probe.reply} in {timeout:.0f}s"
        return None

    waits = [
        answered(request, partition, probe)
        for request, probe in PROBES.items() for partition in sorted(await wire.partitions(request))
    ]
    return [silence for silence in await asyncio.gather(*waits) if silence is not None]
