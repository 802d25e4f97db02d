"""Bad input goes to `<topic>.dlq` with its original bytes and the reason, and consumption goes on;
every published event carries its CloudEvents headers and never a full code."""

import asyncio
import json

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.outbound import EVENT_TYPE_BY_TOPIC
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Received, Wire
from tests.scenario import buy, configure

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        (b"{not json", "undecodable_json"),
        (b"\xff\xfe\x00", "undecodable_json"),
        (b"", "undecodable_json"),
        (json.dumps({"workspace_id": "w"}).encode(), "validation_error"),
        (json.dumps([1, 2, 3]).encode(), "validation_error"),
    ],
)
async def test_a_message_that_cannot_be_parsed_goes_to_the_dead_letter_topic_with_its_bytes(
    wire: Wire, body: bytes, error_type: str
) -> None:
    marker = f"marker-{id(body)}-{error_type}".encode()
    await wire.send(Topic.PAYMENT_COMPLETED, body, headers=[("x-test", marker)])
    (dead,) = await _dead_letters_with(wire, Topic.PAYMENT_COMPLETED, marker)
    assert dead.value == body
    assert dead.headers["error_type"] == error_type.encode()
    assert dead.headers["error_detail"]


async def _dead_letters_with(wire: Wire, topic: Topic, marker: bytes) -> list[Received]:
    for _ in range(300):
        hits = [r for r in wire.on(topic, dead_letters=True) if r.headers.get("x-test") == marker]
        if hits:
            return hits
        await asyncio.sleep(0.1)
    raise AssertionError(f"no dead letter with {marker!r}")


@pytest.mark.parametrize(
    "mutation",
    [
        {"amount": {"minor": 50.5, "currency": "EUR"}},
        {"amount": {"minor": "5000", "currency": "EUR"}},
        {"amount": {"minor": -5, "currency": "EUR"}},
        {"amount": {"minor": 5000, "currency": "XYZ"}},
        {"recipient": {"name": "R", "email": "not-an-email"}},
        {"purchaser": {"name": "x" * 201, "email": "p@example.com"}},
        {"message": "m" * 501},
        {"channel": "fax"},
        {"requested_at": "2026-11-23T10:00:00"},
    ],
)
async def test_an_invalid_purchase_is_dead_lettered_and_answered_as_invalid_and_the_next_one_is_handled(
    wire: Wire, db: AsyncEngine, workspace: str, mutation: dict
) -> None:
    await configure(db, workspace)
    bad = messages.purchase(workspace) | mutation
    marker = bad["certificate_id"].encode()
    await wire.send(Topic.PURCHASE_REQUESTED, bad, headers=[("x-test", marker)])
    (dead,) = await _dead_letters_with(wire, Topic.PURCHASE_REQUESTED, marker)
    assert dead.headers["error_type"] == b"validation_error"
    (answer,) = await wire.wait_for(Topic.PURCHASE_REJECTED, lambda b: b["certificate_id"] == bad["certificate_id"])
    assert answer.body["reason"] == "invalid"
    assert answer.body["detail"] == dead.headers["error_detail"].decode()
    good = messages.purchase(workspace)
    await wire.send(Topic.PURCHASE_REQUESTED, good)
    await wire.wait_for(Topic.CERTIFICATE_CREATED, lambda b: b["certificate_id"] == good["certificate_id"])
    assert not [r for r in wire.on(Topic.CERTIFICATE_CREATED) if r.body["certificate_id"] == bad["certificate_id"]]


async def test_every_event_carries_cloudevents_headers_and_only_the_last_four_of_the_code(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace)
    bought = await buy(wire, db, workspace)
    redeem = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, redeem)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] == redeem["request_id"])
    await wire.wait_for(Topic.CERTIFICATE_SENT, lambda b: b["certificate_id"] == bought.certificate_id)
    mine = [
        r for topic in EVENT_TYPE_BY_TOPIC for r in wire.on(topic)
        if r.body.get("workspace_id") == workspace
    ]
    assert {r.topic.removeprefix(wire.settings.topic_prefix) for r in mine} >= {
        "certificate-created", "certificate-activated", "pdf-ready", "certificate-sent", "certificate-redeemed",
    }
    for record in mine:
        h = record.headers
        assert h["ce_specversion"] == b"1.0"
        assert h["ce_id"].decode() == record.body["event_id"]
        assert h["ce_type"].decode() == f"giftcert.{record.topic.removeprefix(wire.settings.topic_prefix)}.v1"
        assert h["ce_source"]
        assert h["ce_time"]
        assert h["content-type"] == b"application/json"
        assert h["ce_subject"].decode() == bought.certificate_id
        assert record.key == bought.certificate_id.encode()
        assert bought.code not in record.value.decode()
