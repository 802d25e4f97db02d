"""A redemption code is a bearer secret: after a certificate's whole life on the real pipeline
(redemptions refused and accepted, codes in other spellings, unknown codes, dead-lettered redeem
requests, one of them refused for its code itself, a database error about a code), no log record, no
published event or header, no dead letter's error detail and no database error message contains it in
any spelling."""

import logging
from dataclasses import replace
from uuid import UUID, uuid4

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.codes import display_code
from giftcert.settings import Settings
from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.runtime.json_logs import JsonFormatter
from tests.reliability import Recorder
from tests.scenario import buy, configure

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


def spellings(code: str) -> set[str]:
    shown = display_code(code)
    return {code, code.lower(), shown, shown.lower(), shown.replace("-", " ")}


async def _a_database_error_about(code: str, settings: Settings, workspace: str, certificate_id: str) -> str:
    """The message of the error a second certificate with the same code raises, as a worker's engine
    reports it (and as a log line or a dead letter would carry it)."""
    deps = bootstrap(settings)
    try:
        async with deps.new_uow() as uow:
            original = await uow.certificates.get(workspace, UUID(certificate_id))
            assert original is not None
            try:
                await uow.certificates.add(replace(original, id=uuid4()))
            except IntegrityError as error:
                return str(error)
    finally:
        await deps.close()
    raise AssertionError(f"a second certificate with code ...{code[-4:]} was accepted")


async def test_no_log_event_dead_letter_or_error_message_contains_a_code(
    wire: Wire, db: AsyncEngine, workspace: str, settings: Settings, caplog: pytest.LogCaptureFixture,
    reliability: Recorder,
) -> None:
    caplog.set_level(logging.INFO)  # what the services log in production ...
    caplog.set_level(logging.DEBUG, logger="giftcert")  # ... and everything our own code can say
    await configure(db, workspace)
    first, second = await buy(wire, db, workspace), await buy(wire, db, workspace)
    tries = [
        messages.redeem(workspace, first.code, order_total={"minor": 100, "currency": "EUR"}),  # exceeds
        messages.redeem(workspace, display_code(first.code).lower()),  # redeems
        messages.redeem(workspace, first.code),  # already redeemed
        messages.redeem(workspace, second.code, order_total={"minor": 9000, "currency": "GBP"}),  # currency
        messages.redeem(workspace, "ABCD-EFGH-JKMN"),  # not found
    ]
    for body in tries:
        await wire.send(Topic.BOOKING_REDEEM_REQUEST, body)
    dead = messages.redeem(workspace, second.code, order_total={"minor": "lots", "currency": "EUR"})
    # refused for the code field itself (longer than the contract's 64 characters): an error detail
    # that echoed the invalid value would carry the code
    dead_code = messages.redeem(workspace, display_code(second.code) + " " * 60)
    for body in (dead, dead_code):
        await wire.send(Topic.BOOKING_REDEEM_REQUEST, body)
    asked = {body["request_id"] for body in tries}
    await wire.wait_for(Topic.REDEMPTION_REJECTED, lambda b: b["request_id"] in asked, count=4)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, lambda b: b["request_id"] in asked)
    dead_ids = {dead["request_id"], dead_code["request_id"]}
    await wire.wait_for(Topic.BOOKING_REDEEM_REQUEST, lambda b: b.get("request_id") in dead_ids, count=2,
                        dead_letters=True)
    database_error = await _a_database_error_about(first.code, settings, workspace, first.certificate_id)
    await wire.quiet(1)

    secrets = spellings(first.code) | spellings(second.code)
    as_json = JsonFormatter()  # what `giftcert run` writes: the message and the fields it adds
    logged = [
        record.getMessage() + (record.exc_text or "") + as_json.format(record)
        for record in caplog.records
        if not record.name.startswith("mail.log")  # the test's SMTP sink: the recipient's side, not ours
    ]
    published = [
        record.value.decode(errors="replace") + repr(record.headers)
        for topic in Topic
        if topic not in INBOUND_TOPICS
        for record in wire.on(topic)
    ]
    dead_letter_details = [
        repr(record.headers) for records in wire.received.values() for record in records
        if "error_detail" in record.headers
    ]
    assert logged, "no log records were captured"
    assert len(published) >= 10, "the events were not collected"
    assert len(dead_letter_details) >= 2, "the broken redeem requests were not dead-lettered"
    for where, texts in (("log", logged), ("event", published), ("dead letter", dead_letter_details),
                         ("database error", [database_error])):
        leaks = [text for text in texts if any(secret in text for secret in secrets)]
        assert not leaks, f"a code appears in a {where}: {leaks[0][:300]}"
    reliability.record(
        "a certificate's life with refusals, other spellings, a dead letter and a DB error", injected=len(tries) + 3,
        invariants=["no code in logs", "events carry code_last4 only", "no code in error details or DB errors"],
    )
