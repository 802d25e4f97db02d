"""The remaining-balance email over the real broker, PostgreSQL and SMTP sink: the ledger's
certificate-redeemed goes through the outbox and the relay to the mailer, which emails the recipient
what a partial redemption left, where the workspace turned it on; none for a redemption that used the
certificate up, none where the workspace left it off."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.codes import display_code
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.integration.test_redemption import _decision
from tests.integration.test_reminders_and_resend import _eventually, _kinds, _mails
from tests.scenario import buy, configure

pytestmark = pytest.mark.integration

EUR = "EUR"


async def _redeemed(wire: Wire, workspace: str, code: str, minor: int) -> dict:
    request = messages.redeem(workspace, code, amount={"minor": minor, "currency": EUR})
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    outcome, body = await _decision(wire, request)
    assert outcome == "redeemed", body
    return body


async def test_a_partial_redemption_emails_what_is_left_and_using_up_the_rest_emails_nothing(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path
) -> None:
    await configure(db, workspace, redemption_mode="partial", remaining_balance_email=True)
    bought = await buy(wire, db, workspace)  # EUR 50
    cid = bought.certificate_id
    first = await _redeemed(wire, workspace, bought.code, 1500)
    assert first["status_after"] == "active"

    async def emailed() -> bool:
        return "remaining_balance_sent" in await _kinds(db, cid)

    await _eventually(emailed, "remaining_balance_sent in the activity log")
    (mail,) = _mails(mail_folder, f"remaining-balance-{first['request_id']}")
    assert mail["To"].addresses[0].addr_spec == "robin@example.com"
    body = mail.get_body(("plain",)).get_content()
    assert "Remaining balance: €35.00" in body
    assert bought.code[-4:] in body
    assert bought.code not in body
    assert display_code(bought.code) not in body

    rest = await _redeemed(wire, workspace, bought.code, 3500)
    assert rest["status_after"] == "redeemed"
    await wire.quiet(3)
    assert not _mails(mail_folder, f"remaining-balance-{rest['request_id']}")
    assert (await _kinds(db, cid)).count("remaining_balance_sent") == 1


async def test_a_workspace_that_left_the_email_off_gets_none_after_a_partial_redemption(
    wire: Wire, db: AsyncEngine, workspace: str, mail_folder: Path
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await buy(wire, db, workspace)
    redeemed = await _redeemed(wire, workspace, bought.code, 1500)
    assert redeemed["status_after"] == "active"

    async def consumed() -> bool:  # the mailer's inbox row: it handled the event, by emailing no one
        async with db.connect() as connection:
            found = await connection.execute(
                text("SELECT 1 FROM inbox WHERE consumer = 'remaining-balance' AND workspace_id = :ws AND key = :key"),
                {"ws": workspace, "key": redeemed["request_id"]},
            )
            return found.first() is not None

    await _eventually(consumed, "the remaining-balance inbox row")
    assert not _mails(mail_folder, f"remaining-balance-{redeemed['request_id']}")
    assert "remaining_balance_sent" not in await _kinds(db, bought.certificate_id)
