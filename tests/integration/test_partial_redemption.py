"""Contract v2 over the real broker and PostgreSQL: a partial redemption, the balance kept with the
certificate and checked against its ledger entries (`giftcert ledger verify`), and the workspace's
redemption settings on the CLI."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from tests.integration.test_certificate_cli import giftcert
from tests.integration.test_redemption import _decision
from tests.scenario import buy, configure

pytestmark = pytest.mark.integration


async def _balance(db: AsyncEngine, certificate_id: str) -> tuple[str, int, int]:
    async with db.connect() as connection:
        row = (await connection.execute(
            text(
                "SELECT status, balance_minor, (SELECT sum(amount_minor) FROM ledger_entries "
                "WHERE certificate_id = c.id) FROM certificates AS c WHERE id = :id"
            ),
            {"id": certificate_id},
        )).one()
    return row[0], int(row[1]), int(row[2])


async def test_a_partial_redemption_leaves_the_rest_on_the_certificate_for_another_order(
    wire: Wire, db: AsyncEngine, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await buy(wire, db, workspace)  # EUR 50
    first = messages.redeem(workspace, bought.code, amount={"minor": 1500, "currency": "EUR"})
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, first)
    outcome, body = await _decision(wire, first)
    assert outcome == "redeemed", body
    assert (body["amount_applied"], body["balance_after"], body["status_after"], body["hold_id"]) == (
        {"minor": 1500, "currency": "EUR"}, {"minor": 3500, "currency": "EUR"}, "active", None,
    )
    assert await _balance(db, bought.certificate_id) == ("active", 3500, 3500)

    # another order owing less than what is left: the default amount is what it owes
    second = messages.redeem(workspace, bought.code, order_total={"minor": 2000, "currency": "EUR"})
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, second)
    outcome, body = await _decision(wire, second)
    assert outcome == "redeemed", body
    assert body["amount_applied"]["minor"] == 2000
    assert await _balance(db, bought.certificate_id) == ("active", 1500, 1500)

    too_much = messages.redeem(workspace, bought.code, amount={"minor": 1600, "currency": "EUR"})
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, too_much)
    outcome, body = await _decision(wire, too_much)
    assert (outcome, body["reason"]) == ("rejected", "insufficient_balance")


async def test_ledger_verify_is_clean_until_a_kept_balance_is_corrupted(
    wire: Wire, db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code, amount={"minor": 1000, "currency": "EUR"})
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    assert (await _decision(wire, request))[0] == "redeemed"

    clean = await giftcert(database_url, "ledger", "verify", "--workspace", workspace)
    assert clean.exit_code == 0, clean.output
    assert "every balance matches" in clean.stdout

    async with db.begin() as connection:
        await connection.execute(
            text("UPDATE certificates SET balance_minor = balance_minor + 1 WHERE id = :id"),
            {"id": bought.certificate_id},
        )
    corrupted = await giftcert(database_url, "ledger", "verify", "--workspace", workspace)
    assert corrupted.exit_code == 1, corrupted.output
    assert f"{bought.certificate_id}: balance kept 4001, ledger entries say 4000" in corrupted.stdout


async def test_workspace_set_takes_the_redemption_mode_and_checks_the_hold_settings(
    database_url: str, workspace: str
) -> None:
    changed = await giftcert(
        database_url, "workspace", "set", workspace, "--redemption-mode", "partial", "--hold-seconds-default", "600",
        "--refund-validity-days", "30",
    )
    assert changed.exit_code == 0, changed.output
    assert "redemption_mode: partial" in changed.stdout
    assert "hold_seconds_default: 600" in changed.stdout
    assert "refund_validity_days: 30" in changed.stdout

    unknown = await giftcert(database_url, "workspace", "set", workspace, "--redemption-mode", "half")
    assert unknown.exit_code == 2
    out_of_range = await giftcert(database_url, "workspace", "set", workspace, "--hold-seconds-max", "0")
    assert out_of_range.exit_code == 2
    # a default above the maximum is refused by the settings' own rule
    above = await giftcert(
        database_url, "workspace", "set", workspace, "--hold-seconds-max", "100", "--hold-seconds-default", "200"
    )
    assert above.exit_code == 2, above.output
    kept = await giftcert(database_url, "workspace", "set", workspace)
    assert "hold_seconds_default: 600" in kept.stdout
    assert "hold_seconds_max: 86400" in kept.stdout


async def test_workspace_set_turns_the_remaining_balance_email_on_and_off(database_url: str, workspace: str) -> None:
    default = await giftcert(database_url, "workspace", "set", workspace)
    assert "remaining_balance_email: False" in default.stdout
    on = await giftcert(database_url, "workspace", "set", workspace, "--remaining-balance-email")
    assert on.exit_code == 0, on.output
    assert "remaining_balance_email: True" in on.stdout
    off = await giftcert(database_url, "workspace", "set", workspace, "--no-remaining-balance-email")
    assert "remaining_balance_email: False" in off.stdout
