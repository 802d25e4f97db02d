"""The contract's rules as pure decisions, and the state machine's allowed transitions."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from giftcert.domain.certificate import (
    ALLOWED_TRANSITIONS,
    Certificate,
    IllegalTransitionError,
    Status,
)
from giftcert.domain.money import Amount
from giftcert.domain.product import Product, offered_products
from giftcert.domain.rules import (
    Refusal,
    Sale,
    decide_purchase,
    refuse_payment,
    refuse_reactivation,
    refuse_redemption,
    refuse_void,
)
from giftcert.domain.workspace import WorkspaceSettings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
EUR50 = Amount(5000, "EUR")


def _certificate(status: Status = Status.ACTIVE, **changes: object) -> Certificate:
    base = Certificate(
        id=uuid4(), workspace_id="w", status=Status.PENDING, amount=EUR50, code="ABCDEFGHJKMN",
        channel="portal", segment=None, purchaser_name="P", purchaser_email="p@example.com",
        recipient_name="R", recipient_email="r@example.com", message=None, expiry_days=365,
        created_at=NOW - timedelta(days=1),
    )
    if status is not Status.PENDING:
        base = replace(base.activated(at=NOW - timedelta(hours=1), payment_id="p"), status=status)
    return replace(base, **changes)  # type: ignore[arg-type]


def _redeem(certificate: Certificate | None, **kw: object) -> str | None:
    args: dict = {"order_total": Amount(9000, "EUR"), "segment": None, "requested_at": NOW, "now": NOW} | kw
    refusal = refuse_redemption(certificate, **args)
    return None if refusal is None else refusal.reason


def test_only_the_contracts_transitions_exist() -> None:
    assert {
        (Status.PENDING, Status.ACTIVE), (Status.ACTIVE, Status.REDEEMED), (Status.ACTIVE, Status.VOIDED),
        (Status.ACTIVE, Status.EXPIRED), (Status.VOIDED, Status.ACTIVE),
        # contract v2: a refund makes a redeemed or expired certificate active again
        (Status.REDEEMED, Status.ACTIVE), (Status.EXPIRED, Status.ACTIVE),
        # contract v2: a certificate unpaid for the workspace's pending_days is voided (for good)
        (Status.PENDING, Status.VOIDED),
    } == ALLOWED_TRANSITIONS
    with pytest.raises(IllegalTransitionError):
        _certificate(Status.REDEEMED).voided(at=NOW)
    with pytest.raises(IllegalTransitionError):
        _certificate(Status.EXPIRED).reactivated()


def test_a_certificate_printed_or_logged_shows_no_code() -> None:
    certificate = _certificate()
    assert certificate.code not in repr(certificate)
    assert certificate.code not in str(certificate)
    assert str(certificate.id) in repr(certificate)


def test_activation_sets_expiry_from_the_expiry_days() -> None:
    active = _certificate(Status.PENDING, expiry_days=30).activated(at=NOW, payment_id="pay")
    assert active.expires_at == NOW + timedelta(days=30)


@pytest.mark.parametrize(
    ("status", "reason"),
    [(Status.PENDING, "not_active"), (Status.REDEEMED, "already_redeemed"), (Status.VOIDED, "voided"),
     (Status.EXPIRED, "expired")],
)
def test_only_an_active_certificate_can_be_redeemed(status: Status, reason: str) -> None:
    assert _redeem(_certificate(status)) == reason


def test_redemption_uses_the_certificate_in_full_within_the_order_total() -> None:
    assert _redeem(_certificate()) is None
    assert _redeem(_certificate(), order_total=Amount(5000, "EUR")) is None
    assert _redeem(_certificate(), order_total=Amount(4999, "EUR")) == "exceeds_order_total"
    assert _redeem(_certificate(), order_total=Amount(9000, "USD")) == "currency_mismatch"


def test_redemption_after_expiry_by_request_time_or_handling_time_is_refused() -> None:
    cert = _certificate()
    assert cert.expires_at is not None
    assert _redeem(cert, requested_at=cert.expires_at) == "expired"
    assert _redeem(cert, now=cert.expires_at + timedelta(seconds=1)) == "expired"
    assert _redeem(None) == "not_found"


def test_a_segment_certificate_is_redeemable_only_in_its_segment() -> None:
    cert = _certificate(segment="b2b")
    assert _redeem(cert, segment="b2c") == "segment_not_allowed"
    assert _redeem(cert, segment=None) == "segment_not_allowed"
    assert _redeem(cert, segment="b2b") is None


def test_purchase_respects_portal_currency_and_amount_range() -> None:
    ws = WorkspaceSettings("w", "W", portal_enabled=False, min_minor=1000, max_minor=100000)
    kw: dict = {"channel": "portal", "segment": None}
    assert decide_purchase(ws, amount=EUR50, **kw).reason == "portal_disabled"  # type: ignore[union-attr]
    ws = replace(ws, portal_enabled=True)
    assert isinstance(decide_purchase(ws, amount=EUR50, **kw), Sale)
    assert decide_purchase(ws, amount=Amount(999, "EUR"), **kw).reason == "amount_out_of_range"  # type: ignore[union-attr]
    assert decide_purchase(ws, amount=Amount(5000, "GBP"), **kw).reason == "currency_not_supported"  # type: ignore[union-attr]


SHOP = WorkspaceSettings("w", "W", portal_enabled=True, min_minor=1000, max_minor=100000)


def _product(name: str, **fields: object) -> Product:
    return Product(id=uuid4(), workspace_id="w", name=name, **fields)  # type: ignore[arg-type]


def _sell(products: list[Product], minor: int, segment: str | None) -> Refusal | Sale:
    return decide_purchase(SHOP, amount=Amount(minor, "EUR"), channel="portal", segment=segment, products=products)


def test_without_products_any_amount_in_range_sells_and_redeems_only_in_the_buyers_segment() -> None:
    assert _sell([], 5000, "b2b") == Sale(product=None, redeemable_segment="b2b")


def test_with_products_a_purchase_must_fit_a_products_amounts() -> None:
    fixed = _product("Fixed", fixed_amounts=(5000, 10000))
    ranged = _product("Ranged", min_minor=20000, max_minor=30000)
    assert _sell([fixed, ranged], 10000, None) == Sale(product=fixed, redeemable_segment=None)
    assert _sell([fixed, ranged], 25000, None) == Sale(product=ranged, redeemable_segment=None)
    refusal = _sell([fixed, ranged], 7000, None)
    assert isinstance(refusal, Refusal)
    assert refusal.reason == "amount_out_of_range"


def test_a_product_offered_to_segments_refuses_other_buyers_as_segment_not_allowed() -> None:
    b2b = _product("Business", fixed_amounts=(5000,), segments=("b2b",), segment_restricted_redemption=True)
    for segment in ("b2c", None):
        refusal = _sell([b2b], 5000, segment)
        assert isinstance(refusal, Refusal)
        assert refusal.reason == "segment_not_allowed"
    assert _sell([b2b], 5000, "b2b") == Sale(product=b2b, redeemable_segment="b2b")


def test_an_unrestricted_product_redeems_in_any_segment_and_inactive_products_sell_nothing() -> None:
    open_to_segment = _product("Tours", fixed_amounts=(5000,), segments=("b2c",))
    assert _sell([open_to_segment], 5000, "b2c") == Sale(product=open_to_segment, redeemable_segment=None)
    retired = _product("Old", fixed_amounts=(5000,), segments=("b2c",), active=False)
    assert _sell([retired], 5000, "b2b") == Sale(product=None, redeemable_segment="b2b")


def test_the_purchase_form_offers_active_products_of_the_segment_in_name_order() -> None:
    tours = _product("Tours", fixed_amounts=(5000,))
    b2b = _product("Business", fixed_amounts=(5000,), segments=("b2b",))
    retired = _product("Archive", fixed_amounts=(5000,), active=False)
    assert offered_products([tours, b2b, retired], "b2b") == [b2b, tours]
    assert offered_products([tours, b2b, retired], None) == [tours]


@pytest.mark.parametrize(
    "fields",
    [{}, {"fixed_amounts": (5000,), "min_minor": 1, "max_minor": 2}, {"fixed_amounts": (0,)},
     {"min_minor": 500, "max_minor": 100}, {"fixed_amounts": (5000,), "segment_restricted_redemption": True}],
    ids=["neither", "both", "zero_amount", "inverted_range", "restricted_without_segments"],
)
def test_a_product_refuses_inconsistent_amounts_and_segments(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"product|amounts|redemption"):
        _product("P", **fields)


def test_payment_must_match_a_pending_certificate() -> None:
    assert refuse_payment(None, amount=EUR50).reason == "unknown_certificate"  # type: ignore[union-attr]
    assert refuse_payment(_certificate(Status.PENDING), amount=EUR50) is None
    assert refuse_payment(_certificate(Status.PENDING), amount=Amount(1, "EUR")).reason == "amount_mismatch"  # type: ignore[union-attr]
    assert refuse_payment(_certificate(Status.ACTIVE), amount=EUR50).reason == "not_pending"  # type: ignore[union-attr]


def test_void_and_reactivation_follow_the_state_machine() -> None:
    assert refuse_void(_certificate()) is None
    assert refuse_void(_certificate(Status.REDEEMED)).reason == "already_redeemed"  # type: ignore[union-attr]
    assert refuse_void(None).reason == "not_found"  # type: ignore[union-attr]
    voided = _certificate(Status.VOIDED)
    assert refuse_reactivation(voided, now=NOW) is None
    assert voided.expires_at is not None
    assert refuse_reactivation(voided, now=voided.expires_at).reason == "expired"  # type: ignore[union-attr]
    assert refuse_reactivation(_certificate(), now=NOW).reason == "not_voided"  # type: ignore[union-attr]


def test_amounts_are_shown_with_their_currencys_digits() -> None:
    assert Amount(123450, "EUR").formatted() == "EUR 1,234.50"
    assert Amount(5000, "JPY").formatted() == "JPY 5,000"
    assert Amount(1234, "KWD").formatted() == "KWD 1.234"


@pytest.mark.parametrize(
    "changes", [{"min_minor": 5000, "max_minor": 1000}, {"min_minor": 0}, {"expiry_days": 0}, {"reminder_days": -1}]
)
def test_workspace_settings_refuse_an_empty_amount_range_or_negative_periods(changes: dict) -> None:
    with pytest.raises(ValueError, match=r"amount|day"):
        replace(WorkspaceSettings.defaults("w"), **changes)
