"""Contract v2's amounts as pure rules: what a redemption applies (rules.amount_to_apply) and the
certificate's balance (Certificate.applied)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.domain.rules import Refusal, amount_to_apply
from giftcert.domain.workspace import WorkspaceSettings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _active(minor: int = 5000, balance: int | None = None) -> Certificate:
    pending = Certificate(
        id=uuid4(), workspace_id="w", status=Status.PENDING, amount=Amount(minor, "EUR"), code="ABCDEFGHJKMN",
        channel="portal", segment=None, purchaser_name="P", purchaser_email="p@example.com",
        recipient_name="R", recipient_email="r@example.com", message=None, expiry_days=365,
        created_at=NOW - timedelta(days=1),
    )
    active = pending.activated(at=NOW - timedelta(hours=1), payment_id="p")
    return active if balance is None else replace(active, balance_minor=balance)


def _apply(certificate: Certificate, **kw: Any) -> str | int:
    args: dict[str, Any] = {"mode": "partial", "requested": None, "order_total": Amount(9000, "EUR"),
                            "order_applied": 0} | kw
    decided = amount_to_apply(certificate, **args)
    return decided.reason if isinstance(decided, Refusal) else decided.minor


def test_a_paid_certificate_has_its_value_as_balance_and_is_redeemed_when_it_is_used_up() -> None:
    certificate = _active()
    assert certificate.balance == Amount(5000, "EUR")
    part = certificate.applied(2000, at=NOW)
    assert (part.status, part.balance_minor, part.redeemed_at) == (Status.ACTIVE, 3000, None)
    rest = part.applied(3000, at=NOW)
    assert (rest.status, rest.balance_minor, rest.redeemed_at) == (Status.REDEEMED, 0, NOW)
    for too_much in (0, -1, 3001):
        with pytest.raises(ValueError, match="cannot apply"):
            part.applied(too_much, at=NOW)


def test_partial_mode_applies_the_lesser_of_balance_and_due_by_default() -> None:
    assert _apply(_active()) == 5000
    assert _apply(_active(), order_applied=6000) == 3000
    assert _apply(_active(), requested=(1234, "EUR")) == 1234
    assert _apply(_active(), order_applied=9000) == "exceeds_order_due"


def test_the_reasons_come_in_the_contracts_order() -> None:
    small = _active(balance=1000)
    assert _apply(small, requested=(9500, "EUR"), order_applied=8000) == "exceeds_order_total"
    assert _apply(small, requested=(2000, "EUR"), order_applied=8000) == "exceeds_order_due"
    assert _apply(small, requested=(1500, "EUR")) == "insufficient_balance"
    assert _apply(_active(balance=0)) == "already_redeemed"
    for requested in ((0, "EUR"), (-1, "EUR"), (1000, "GBP")):
        assert _apply(small, requested=requested) == "invalid_amount"


def test_full_mode_applies_the_whole_balance_against_the_requests_own_total() -> None:
    assert _apply(_active(), mode="full", order_applied=8000) == 5000  # v1: other certificates do not count
    assert _apply(_active(), mode="full", requested=(5000, "EUR")) == 5000
    assert _apply(_active(), mode="full", requested=(4000, "EUR")) == "invalid_amount"
    assert _apply(_active(), mode="full", order_total=Amount(4999, "EUR")) == "exceeds_order_total"


@pytest.mark.parametrize(
    "change",
    [{"redemption_mode": "half"}, {"hold_seconds_default": 0}, {"hold_seconds_default": 901, "hold_seconds_max": 900},
     {"refund_validity_days": 0}],
    ids=["unknown_mode", "no_hold", "default_above_max", "no_refund_days"],
)
def test_workspace_settings_refuse_what_is_out_of_range(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each has its own message
        replace(WorkspaceSettings.defaults("w"), **change)
