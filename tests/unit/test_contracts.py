"""The wire contract (shared/CONTRACT.md) as the models in `giftcert_contracts` enforce it.

Bodies are validated from JSON text, as they arrive from Kafka. The contract has no complete example
bodies, so the ones below are written from its tables and conventions (money as integer minor units,
times as RFC 3339 with an offset, UUID ids except `payment_id` and `order_id`).
"""

import json
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from giftcert_contracts.cloudevents import cloudevent_headers
from giftcert_contracts.inbound import (
    CheckExpiries,
    PaymentCompleted,
    PurchaseRequested,
    ReactivateCertificate,
    RedeemCertificate,
    VoidCertificate,
)
from giftcert_contracts.money import Balance, Money
from giftcert_contracts.outbound import (
    EVENT_TYPE_BY_TOPIC,
    EVENT_TYPES,
    CaptureRejected,
    CertificateActivated,
    CertificateCreated,
    CertificateExpired,
    CertificateExpiringSoon,
    CertificateReactivated,
    CertificateRedeemed,
    CertificateSent,
    CertificateVoided,
    Event,
    HoldExpired,
    HoldPlaced,
    HoldRejected,
    HoldReleased,
    PaymentRejected,
    PdfReady,
    PurchaseRejected,
    ReactivateRejected,
    RedemptionRejected,
    ReleaseRejected,
    VoidRejected,
)
from giftcert_contracts.topics import INBOUND_TOPICS, Topic

CERTIFICATE_ID = "7b0c6f2e-3a4d-4c1e-9f5a-2d8e6b1c0a93"
REQUEST_ID = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
TICK_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
EUR50 = {"minor": 5000, "currency": "EUR"}
WHEN = "2026-11-23T10:00:00Z"

PURCHASE = {
    "workspace_id": "alpine-tours",
    "certificate_id": CERTIFICATE_ID,
    "amount": EUR50,
    "purchaser": {"name": "Paul Purchaser", "email": "paul@example.com"},
    "recipient": {"name": "Rita Recipient", "email": "rita@example.com"},
    "message": "Happy birthday! Enjoy the mountains.",
    "segment": "alps",
    "channel": "portal",
    "requested_at": WHEN,
    "locale": "de-AT",
}
PAYMENT = {
    "workspace_id": "alpine-tours",
    "payment_id": "pay_8f3k2j",
    "certificate_id": CERTIFICATE_ID,
    "amount": EUR50,
    "completed_at": WHEN,
}
REDEEM = {
    "workspace_id": "alpine-tours",
    "request_id": REQUEST_ID,
    "order_id": "order-42",
    "code": "abcd-efgh-jkmn",
    "order_total": {"minor": 120000, "currency": "EUR"},
    "segment": "alps",
    "requested_at": WHEN,
    "amount": {"minor": 5000, "currency": "EUR"},  # v2: optional
}
VOID = {
    "workspace_id": "alpine-tours",
    "request_id": REQUEST_ID,
    "certificate_id": CERTIFICATE_ID,
    "reason": "The customer asked for a refund",
    "actor": "ops@alpine-tours",
}
REACTIVATE = VOID | {"reason": "Voided by mistake"}
TICK = {"workspace_id": "alpine-tours", "tick_id": TICK_ID, "now": WHEN}

EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    PurchaseRequested: PURCHASE,
    PaymentCompleted: PAYMENT,
    RedeemCertificate: REDEEM,
    VoidCertificate: VOID,
    ReactivateCertificate: REACTIVATE,
    CheckExpiries: TICK,
}
# The contract's inbound table: every field but the ones it calls optional is required.
OPTIONAL = {PurchaseRequested: {"message", "segment", "locale"}, RedeemCertificate: {"segment", "amount"}}
# (model, path to the field) for every Money the inbound messages carry
AMOUNTS = [(PurchaseRequested, ("amount",)), (PaymentCompleted, ("amount",))]
MONEY_FIELDS = [*AMOUNTS, (RedeemCertificate, ("order_total",))]
TIME_FIELDS = [
    (PurchaseRequested, "requested_at"),
    (PaymentCompleted, "completed_at"),
    (RedeemCertificate, "requested_at"),
    (CheckExpiries, "now"),
]


def _with(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of `body` with the field at `path` set to `value` (or removed when value is `...`)."""
    copy = json.loads(json.dumps(body))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


def _parse(model: type[BaseModel], body: dict[str, Any]) -> BaseModel:
    return model.model_validate_json(json.dumps(body))


def _refused(model: type[BaseModel], body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _parse(model, body)


def _name(model: type[BaseModel]) -> str:
    return model.__name__


def _id(value: object) -> str | None:
    """Test ids: a model by its name, a field path joined by dots, anything else as pytest does."""
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, tuple):
        return ".".join(map(str, value))
    if isinstance(value, set):
        return "reasons"
    return None


# --- inbound: what is accepted ------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["", "deutsch!", "de_AT", "x", "de-" + "a" * 40])
def test_a_purchase_request_with_a_locale_that_is_no_bcp_47_tag_is_refused(locale: str) -> None:
    with pytest.raises(ValidationError):
        PurchaseRequested.model_validate(PURCHASE | {"locale": locale})


@pytest.mark.parametrize("model", EXAMPLES, ids=_name)
def test_the_contracts_example_bodies_are_accepted(model: type[BaseModel]) -> None:
    parsed = _parse(model, EXAMPLES[model])
    assert parsed.model_dump(mode="json") == EXAMPLES[model]


def test_a_purchase_request_reads_money_people_and_time_as_sent() -> None:
    purchase = PurchaseRequested.model_validate_json(json.dumps(PURCHASE))
    assert purchase.certificate_id == UUID(CERTIFICATE_ID)
    assert purchase.amount == Money(minor=5000, currency="EUR")
    assert (purchase.purchaser.name, purchase.purchaser.email) == ("Paul Purchaser", "paul@example.com")
    assert (purchase.recipient.name, purchase.recipient.email) == ("Rita Recipient", "rita@example.com")
    assert purchase.channel == "portal"
    assert purchase.requested_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("model", EXAMPLES, ids=_name)
def test_unknown_fields_are_ignored(model: type[BaseModel]) -> None:
    body = EXAMPLES[model] | {"unknown_field": "x", "schema_version": 7, "nested": {"a": [1, 2]}}
    for money_model, path in MONEY_FIELDS:
        if money_model is model:
            body = _with(body, (*path, "display"), "EUR 50.00")
    if model is PurchaseRequested:
        body = _with(body, ("recipient", "phone"), "+43 1 234")
    parsed = _parse(model, body)
    assert parsed == _parse(model, EXAMPLES[model])
    dumped = parsed.model_dump()
    assert not {"unknown_field", "schema_version", "nested"} & set(dumped)


def test_the_optional_fields_of_a_purchase_and_a_redemption_may_be_left_out() -> None:
    purchase = _parse(PurchaseRequested, _with(_with(PURCHASE, ("message",), ...), ("segment",), ...))
    assert purchase.message is None  # type: ignore[attr-defined]
    assert purchase.segment is None  # type: ignore[attr-defined]
    redeem = _parse(RedeemCertificate, _with(REDEEM, ("segment",), ...))
    assert redeem.segment is None  # type: ignore[attr-defined]


# --- inbound: what is refused -------------------------------------------------------------------

REQUIRED = [
    pytest.param(model, field, id=f"{model.__name__}.{field}")
    for model, body in EXAMPLES.items()
    for field in body
    if field not in OPTIONAL.get(model, set())
]


@pytest.mark.parametrize(("model", "field"), REQUIRED)
def test_a_missing_required_field_is_refused(model: type[BaseModel], field: str) -> None:
    _refused(model, _with(EXAMPLES[model], (field,), ...))


@pytest.mark.parametrize(
    "path",
    [("amount", "minor"), ("amount", "currency"), ("purchaser", "name"), ("purchaser", "email"),
     ("recipient", "name"), ("recipient", "email")],
    ids=".".join,
)
def test_a_missing_field_inside_money_or_a_person_is_refused(path: tuple[str, ...]) -> None:
    _refused(PurchaseRequested, _with(PURCHASE, path, ...))


@pytest.mark.parametrize(("model", "field"), REQUIRED)
def test_a_required_field_given_as_null_is_refused(model: type[BaseModel], field: str) -> None:
    _refused(model, _with(EXAMPLES[model], (field,), None))


@pytest.mark.parametrize("minor", [5000.0, 50.5, "5000", True, [5000], {"minor": 5000}], ids=repr)
@pytest.mark.parametrize(("model", "path"), MONEY_FIELDS, ids=_id)
def test_money_that_is_not_an_integer_of_minor_units_is_refused(
    model: type[BaseModel], path: tuple[str, ...], minor: object
) -> None:
    _refused(model, _with(EXAMPLES[model], (*path, "minor"), minor))


@pytest.mark.parametrize("minor", [0, -1, -5000])
@pytest.mark.parametrize(("model", "path"), AMOUNTS, ids=_id)
def test_a_zero_or_negative_amount_is_refused(model: type[BaseModel], path: tuple[str, ...], minor: int) -> None:
    _refused(model, _with(EXAMPLES[model], (*path, "minor"), minor))


def test_a_negative_order_total_is_refused() -> None:
    _refused(RedeemCertificate, _with(REDEEM, ("order_total", "minor"), -1))


def test_an_order_total_of_zero_is_a_valid_total() -> None:
    redeem = _parse(RedeemCertificate, _with(REDEEM, ("order_total", "minor"), 0))
    assert redeem.order_total.minor == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(("model", "path"), AMOUNTS, ids=_id)
def test_an_amount_above_10_to_the_9_minor_units_is_refused(model: type[BaseModel], path: tuple[str, ...]) -> None:
    _refused(model, _with(EXAMPLES[model], (*path, "minor"), 10**9 + 1))
    _refused(model, _with(EXAMPLES[model], (*path, "minor"), 10**18))
    accepted = _parse(model, _with(EXAMPLES[model], (*path, "minor"), 10**9))
    assert accepted.amount.minor == 10**9  # type: ignore[attr-defined]


@pytest.mark.parametrize("currency", ["XXX", "ABC", "EURO", "EU", "eur", "Eur", "", "€", " EUR", "HRK"])
@pytest.mark.parametrize(("model", "path"), MONEY_FIELDS, ids=_id)
def test_an_unknown_currency_code_is_refused(model: type[BaseModel], path: tuple[str, ...], currency: str) -> None:
    _refused(model, _with(EXAMPLES[model], (*path, "currency"), currency))


@pytest.mark.parametrize("currency", ["EUR", "USD", "JPY", "KWD", "CHF", "GBP"])
def test_an_iso_4217_currency_in_circulation_is_accepted(currency: str) -> None:
    purchase = _parse(PurchaseRequested, _with(PURCHASE, ("amount", "currency"), currency))
    assert purchase.amount.currency == currency  # type: ignore[attr-defined]


@pytest.mark.parametrize("person", ["purchaser", "recipient"])
def test_a_name_over_200_characters_is_refused(person: str) -> None:
    _refused(PurchaseRequested, _with(PURCHASE, (person, "name"), "n" * 201))
    accepted = _parse(PurchaseRequested, _with(PURCHASE, (person, "name"), "n" * 200))
    assert getattr(accepted, person).name == "n" * 200


@pytest.mark.parametrize("person", ["purchaser", "recipient"])
def test_an_empty_name_is_refused(person: str) -> None:
    _refused(PurchaseRequested, _with(PURCHASE, (person, "name"), ""))


@pytest.mark.parametrize("model", [VoidCertificate, ReactivateCertificate], ids=_name)
def test_a_reason_over_500_characters_is_refused(model: type[BaseModel]) -> None:
    _refused(model, _with(EXAMPLES[model], ("reason",), "r" * 501))
    accepted = _parse(model, _with(EXAMPLES[model], ("reason",), "r" * 500))
    assert accepted.reason == "r" * 500  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", [VoidCertificate, ReactivateCertificate], ids=_name)
def test_an_empty_reason_is_refused(model: type[BaseModel]) -> None:
    _refused(model, _with(EXAMPLES[model], ("reason",), ""))


def test_a_message_longer_than_500_characters_is_refused() -> None:
    _refused(PurchaseRequested, _with(PURCHASE, ("message",), "m" * 501))
    accepted = _parse(PurchaseRequested, _with(PURCHASE, ("message",), "m" * 500))
    assert accepted.message == "m" * 500  # type: ignore[attr-defined]


def test_a_personal_message_may_span_several_lines() -> None:
    accepted = _parse(PurchaseRequested, _with(PURCHASE, ("message",), "Dear Rita,\nhave fun!\n\tPaul"))
    assert accepted.message == "Dear Rita,\nhave fun!\n\tPaul"  # type: ignore[attr-defined]


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\x85"], ids=repr)
def test_a_personal_message_with_control_characters_other_than_line_breaks_and_tabs_is_refused(control: str) -> None:
    _refused(PurchaseRequested, _with(PURCHASE, ("message",), f"have fun{control}!"))


@pytest.mark.parametrize(
    "email",
    ["", "rita", "rita@", "@example.com", "rita@example", "rita example@example.com", "rita@@example.com",
     "rita@exa mple.com", "rita@example.com\r\nBcc: eve@example.com", "rita@example.com\nBcc: eve@example.com",
     "rita@example..com"],
    ids=repr,
)
@pytest.mark.parametrize("person", ["purchaser", "recipient"])
def test_an_invalid_email_is_refused(person: str, email: str) -> None:
    _refused(PurchaseRequested, _with(PURCHASE, (person, "email"), email))


FORBIDDEN_IN_ONE_LINE = ["\n", "\r", "\r\n", "\t", "\x00", "\x1b", "\x7f", "\x0b", "\x0c"]
ONE_LINE_FIELDS = [
    (PurchaseRequested, ("workspace_id",)),
    (PurchaseRequested, ("purchaser", "name")),
    (PurchaseRequested, ("recipient", "name")),
    (PurchaseRequested, ("segment",)),
    (PaymentCompleted, ("payment_id",)),
    (RedeemCertificate, ("order_id",)),
    (RedeemCertificate, ("segment",)),
    (VoidCertificate, ("actor",)),
    (ReactivateCertificate, ("actor",)),
]


@pytest.mark.parametrize("control", FORBIDDEN_IN_ONE_LINE, ids=repr)
@pytest.mark.parametrize(
    ("model", "path"), ONE_LINE_FIELDS, ids=[f"{m.__name__}.{'.'.join(p)}" for m, p in ONE_LINE_FIELDS]
)
def test_a_one_line_field_refuses_control_characters(
    model: type[BaseModel], path: tuple[str, ...], control: str
) -> None:
    _refused(model, _with(EXAMPLES[model], path, f"Rita{control}Bcc: eve@example.com"))


@pytest.mark.parametrize("control", ["\n", "\r", "\r\n", "\x00", "\x1b", "\x7f"], ids=repr)
@pytest.mark.parametrize("model", [VoidCertificate, ReactivateCertificate], ids=_name)
def test_a_reason_refuses_line_breaks_and_control_characters(model: type[BaseModel], control: str) -> None:
    _refused(model, _with(EXAMPLES[model], ("reason",), f"refund{control}requested"))


@pytest.mark.parametrize("model", [VoidCertificate, ReactivateCertificate], ids=_name)
def test_a_reason_may_contain_a_tab(model: type[BaseModel]) -> None:
    accepted = _parse(model, _with(EXAMPLES[model], ("reason",), "refund\trequested"))
    assert accepted.reason == "refund\trequested"  # type: ignore[attr-defined]


@pytest.mark.parametrize("workspace_id", ["", "w" * 65], ids=["empty", "65-chars"])
@pytest.mark.parametrize("model", EXAMPLES, ids=_name)
def test_a_workspace_id_outside_1_to_64_characters_is_refused(model: type[BaseModel], workspace_id: str) -> None:
    _refused(model, _with(EXAMPLES[model], ("workspace_id",), workspace_id))


@pytest.mark.parametrize("workspace_id", ["w", "w" * 64], ids=["1-char", "64-chars"])
def test_a_workspace_id_of_1_to_64_characters_is_accepted(workspace_id: str) -> None:
    assert _parse(CheckExpiries, _with(TICK, ("workspace_id",), workspace_id)).workspace_id == workspace_id  # type: ignore[attr-defined]


@pytest.mark.parametrize("channel", ["web", "Portal", "ADMIN", "", "portal ", "operator", None])
def test_a_channel_other_than_portal_or_admin_is_refused(channel: str | None) -> None:
    _refused(PurchaseRequested, _with(PURCHASE, ("channel",), channel))


@pytest.mark.parametrize("channel", ["portal", "admin"])
def test_portal_and_admin_are_the_channels(channel: str) -> None:
    assert _parse(PurchaseRequested, _with(PURCHASE, ("channel",), channel)).channel == channel  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [(PurchaseRequested, "certificate_id", "not-a-uuid"), (PaymentCompleted, "certificate_id", "12345"),
     (RedeemCertificate, "request_id", "r-1"), (VoidCertificate, "certificate_id", ""),
     (CheckExpiries, "tick_id", 42)],
    ids=_id,
)
def test_an_id_that_is_not_a_uuid_is_refused(model: type[BaseModel], field: str, value: object) -> None:
    _refused(model, _with(EXAMPLES[model], (field,), value))


@pytest.mark.parametrize(
    "when",
    ["2026-11-23T10:00:00Z", "2026-11-23T10:00:00+00:00", "2026-11-23T11:00:00+01:00",
     "2026-11-23T05:00:00-05:00", "2026-11-23T10:00:00.250Z"],
)
@pytest.mark.parametrize(("model", "field"), TIME_FIELDS, ids=_id)
def test_a_time_with_an_offset_is_read_as_that_instant(model: type[BaseModel], field: str, when: str) -> None:
    parsed = getattr(_parse(model, _with(EXAMPLES[model], (field,), when)), field)
    assert parsed.utcoffset() is not None
    assert parsed.astimezone(UTC).replace(microsecond=0) == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "when",
    [
        pytest.param("2026-11-23T10:00:00", id="naive-iso"),
        pytest.param("2026-11-23", id="date-only"),
        pytest.param(1795428000, id="unix-seconds-number"),
        pytest.param("1795428000", id="unix-seconds-string"),
        pytest.param(1795428000000, id="unix-milliseconds-number"),
    ],
)
def test_a_time_without_an_rfc_3339_offset_is_refused(when: object) -> None:
    # CONTRACT.md: "Times are RFC 3339 with offset (`2026-11-23T10:00:00Z`)". A Unix timestamp is not
    # RFC 3339 and carries no offset; reading it as UTC (seconds or milliseconds, by its size) is a guess.
    accepted = []
    for model, field in TIME_FIELDS:
        try:
            _parse(model, _with(EXAMPLES[model], (field,), when))
        except ValidationError:
            continue
        accepted.append(f"{model.__name__}.{field}")
    assert not accepted, f"{when!r} accepted as a time by {accepted}"


# --- outbound events ----------------------------------------------------------------------------

OCCURRED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
EVENT_ID = UUID("9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a")
REQUEST = UUID(REQUEST_ID)
CERTIFICATE = UUID(CERTIFICATE_ID)
DOCUMENT = UUID("5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716")
MONEY = Money(minor=5000, currency="EUR")
EXPIRES = OCCURRED + timedelta(days=365)
HOLD = UUID("0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9")
BALANCE = Balance(minor=2500, currency="EUR")

SAMPLES: dict[type[Event], dict[str, Any]] = {
    CertificateCreated: {"certificate_id": CERTIFICATE, "amount": MONEY, "channel": "portal", "expires_in_days": 365},
    PurchaseRejected: {"certificate_id": CERTIFICATE, "reason": "amount_out_of_range", "detail": "above 500.00"},
    CertificateActivated: {
        "certificate_id": CERTIFICATE, "code_last4": "JKMN", "amount": MONEY, "activated_at": OCCURRED,
        "expires_at": EXPIRES, "channel": "admin", "payment_id": "pay_8f3k2j",
    },
    PaymentRejected: {
        "payment_id": "pay_8f3k2j", "certificate_id": CERTIFICATE, "reason": "amount_mismatch", "detail": "d",
    },
    PdfReady: {"certificate_id": CERTIFICATE, "document_id": DOCUMENT, "sha256": "ab" * 32, "size_bytes": 4096},
    CertificateSent: {"certificate_id": CERTIFICATE, "to": "rita@example.com", "document_id": DOCUMENT},
    CertificateRedeemed: {
        "request_id": REQUEST, "order_id": "order-42", "certificate_id": CERTIFICATE, "code_last4": "JKMN",
        "amount_applied": MONEY, "redeemed_at": OCCURRED,
    },
    RedemptionRejected: {"request_id": REQUEST, "order_id": "order-42", "reason": "expired", "detail": "d"},
    CertificateVoided: {"request_id": REQUEST, "certificate_id": CERTIFICATE, "reason": "refund", "actor": "ops"},
    VoidRejected: {"request_id": REQUEST, "certificate_id": CERTIFICATE, "reason": "already_redeemed", "detail": "d"},
    CertificateReactivated: {
        "request_id": REQUEST, "certificate_id": CERTIFICATE, "reason": "mistake", "actor": "ops",
    },
    ReactivateRejected: {"request_id": REQUEST, "certificate_id": CERTIFICATE, "reason": "not_voided", "detail": "d"},
    CertificateExpired: {"certificate_id": CERTIFICATE, "code_last4": "JKMN", "expired_at": OCCURRED},
    CertificateExpiringSoon: {
        "certificate_id": CERTIFICATE, "expires_at": EXPIRES, "recipient_email": "rita@example.com",
    },
    HoldPlaced: {
        "request_id": REQUEST, "hold_id": REQUEST, "order_id": "order-42", "certificate_id": CERTIFICATE,
        "code_last4": "JKMN", "amount_held": MONEY, "available_after": BALANCE, "hold_expires_at": OCCURRED,
    },
    HoldRejected: {"request_id": REQUEST, "order_id": "order-42", "reason": "insufficient_balance", "detail": "d",
                   "certificate_id": CERTIFICATE},
    CaptureRejected: {"request_id": REQUEST, "hold_id": HOLD, "reason": "hold_expired", "detail": "d",
                      "certificate_id": CERTIFICATE},
    HoldReleased: {"request_id": REQUEST, "hold_id": HOLD, "certificate_id": CERTIFICATE, "amount_released": MONEY,
                   "available_after": BALANCE},
    ReleaseRejected: {"request_id": REQUEST, "hold_id": HOLD, "reason": "unknown_hold", "detail": "d",
                      "certificate_id": None},
    HoldExpired: {"hold_id": HOLD, "order_id": "order-42", "certificate_id": CERTIFICATE, "amount_released": MONEY,
                  "available_after": BALANCE},
}

# CONTRACT.md's outbound table: topic name -> body fields besides workspace_id, event_id, occurred_at
CONTRACT_EVENTS: dict[str, set[str]] = {
    "certificate-created": {"certificate_id", "amount", "channel", "expires_in_days"},
    "purchase-rejected": {"certificate_id", "reason", "detail"},
    "certificate-activated": {
        "certificate_id", "code_last4", "amount", "activated_at", "expires_at", "channel", "payment_id",
    },
    "payment-rejected": {"payment_id", "certificate_id", "reason", "detail"},
    "pdf-ready": {"certificate_id", "document_id", "sha256", "size_bytes"},
    "certificate-sent": {"certificate_id", "to", "document_id"},
    "certificate-redeemed": {
        "request_id", "order_id", "certificate_id", "code_last4", "amount_applied", "redeemed_at",
    },
    "redemption-rejected": {"request_id", "order_id", "reason", "detail"},
    "certificate-voided": {"request_id", "certificate_id", "reason"},
    "void-rejected": {"request_id", "certificate_id", "detail"},
    "certificate-reactivated": {"request_id", "certificate_id", "reason"},
    "reactivate-rejected": {"request_id", "certificate_id", "detail"},
    "certificate-expired": {"certificate_id", "code_last4", "expired_at"},
    "certificate-expiring-soon": {"certificate_id", "expires_at", "recipient_email"},
    # v2: the -rejected events also carry certificate_id (null where the request reached none)
    "hold-placed": {
        "request_id", "hold_id", "order_id", "certificate_id", "code_last4", "amount_held", "available_after",
        "hold_expires_at",
    },
    "hold-rejected": {"request_id", "order_id", "reason", "detail", "certificate_id"},
    "capture-rejected": {"request_id", "hold_id", "reason", "detail", "certificate_id"},
    "hold-released": {"request_id", "hold_id", "certificate_id", "amount_released", "available_after"},
    "release-rejected": {"request_id", "hold_id", "reason", "detail", "certificate_id"},
    "hold-expired": {"hold_id", "order_id", "certificate_id", "amount_released", "available_after"},
}
MONEY_EVENT_FIELDS = {
    (CertificateCreated, "amount"), (CertificateActivated, "amount"), (CertificateRedeemed, "amount_applied"),
    (HoldPlaced, "amount_held"), (HoldReleased, "amount_released"), (HoldExpired, "amount_released"),
}


def _event(event_type: type[Event], *, occurred_at: datetime = OCCURRED) -> Event:
    return event_type(workspace_id="alpine-tours", event_id=EVENT_ID, occurred_at=occurred_at, **SAMPLES[event_type])


def _wire(event: Event) -> dict[str, Any]:
    """The body as the outbox stores it and the relay publishes it."""
    body: dict[str, Any] = json.loads(event.model_dump_json())
    return body


def test_every_event_type_has_a_sample_here() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)


def test_every_event_publishes_to_its_own_outbound_topic_of_the_contract() -> None:
    topics = [event_type.topic for event_type in EVENT_TYPES]
    assert len(set(topics)) == len(topics)
    assert all(isinstance(topic, Topic) for topic in topics)
    assert not set(topics) & set(INBOUND_TOPICS)
    assert {topic.value for topic in topics} == set(CONTRACT_EVENTS)
    assert {t.topic: t for t in EVENT_TYPES} == EVENT_TYPE_BY_TOPIC


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_every_event_body_carries_the_contracts_fields(event_type: type[Event]) -> None:
    body = _wire(_event(event_type))
    assert {"workspace_id", "event_id", "occurred_at"} | CONTRACT_EVENTS[event_type.topic.value] <= set(body)


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_no_event_carries_a_redemption_code(event_type: type[Event]) -> None:
    assert "code" not in event_type.model_fields
    body = json.dumps(_wire(_event(event_type)))
    assert "ABCDEFGHJKMN" not in body


def test_money_fields_are_found_where_the_contract_puts_money() -> None:
    found = {
        (event_type, name)
        for event_type in EVENT_TYPES
        for name, field in event_type.model_fields.items()
        if field.annotation is Money
    }
    assert found == MONEY_EVENT_FIELDS


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_every_event_serialises_money_as_integer_minor_units_and_currency(event_type: type[Event]) -> None:
    body = _wire(_event(event_type))
    for name, field in event_type.model_fields.items():
        if field.annotation is Money:
            assert body[name] == {"minor": 5000, "currency": "EUR"}
            assert type(body[name]["minor"]) is int


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_every_event_writes_its_times_in_rfc_3339_with_an_offset(event_type: type[Event]) -> None:
    body = _wire(_event(event_type))
    times = {name for name in body if name.endswith("_at")}
    assert "occurred_at" in times
    for name in times:
        assert body[name].endswith(("Z", "+00:00")), body[name]
        assert datetime.fromisoformat(body[name]).utcoffset() is not None


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_an_event_body_reads_back_as_the_same_event(event_type: type[Event]) -> None:
    event = _event(event_type)
    assert event_type.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize(
    ("event_type", "reasons"),
    [
        (PurchaseRejected, {"portal_disabled", "amount_out_of_range", "currency_not_supported",
                            "segment_not_allowed", "invalid"}),
        (RedemptionRejected, {"not_found", "not_active", "already_redeemed", "voided", "expired",
                              "exceeds_order_total", "currency_mismatch", "segment_not_allowed",
                              "insufficient_balance", "exceeds_order_due", "invalid_amount",
                              "too_many_attempts"}),
    ],
    ids=_id,
)
def test_rejection_reasons_are_exactly_the_contracts(event_type: type[Event], reasons: set[str]) -> None:
    assert set(typing.get_args(event_type.model_fields["reason"].annotation)) == reasons


# --- CloudEvents headers ------------------------------------------------------------------------

SOURCE = "urn:giftcert:ledger"


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_the_cloudevents_type_is_giftcert_name_v1(event_type: type[Event]) -> None:
    headers = cloudevent_headers(_event(event_type), source=SOURCE)
    name = {v for v in CONTRACT_EVENTS if EVENT_TYPE_BY_TOPIC[Topic(v)] is event_type}.pop()
    assert headers["ce_type"] == f"giftcert.{name}.v1"


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_the_cloudevents_id_equals_the_bodys_event_id(event_type: type[Event]) -> None:
    event = _event(event_type)
    headers = cloudevent_headers(event, source=SOURCE)
    assert headers["ce_id"] == _wire(event)["event_id"] == str(EVENT_ID)


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_the_cloudevents_subject_is_the_certificate_id_where_there_is_one(event_type: type[Event]) -> None:
    event = _event(event_type)
    headers = cloudevent_headers(event, source=SOURCE)
    body = _wire(event)
    if body.get("certificate_id") is not None:  # v2's -rejected events: null where none was reached
        assert headers["ce_subject"] == body["certificate_id"] == CERTIFICATE_ID
    else:
        assert "ce_subject" not in headers


def test_a_redemption_rejection_has_no_certificate_and_so_no_subject() -> None:
    assert "ce_subject" not in cloudevent_headers(_event(RedemptionRejected), source=SOURCE)


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=_name)
def test_every_event_carries_the_cloudevents_binary_mode_headers(event_type: type[Event]) -> None:
    headers = cloudevent_headers(_event(event_type), source=SOURCE)
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_source"] == SOURCE
    assert headers["content-type"] == "application/json"
    assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"} <= set(headers)
    assert all(isinstance(value, str) for value in headers.values())


@pytest.mark.parametrize(
    "occurred_at",
    [OCCURRED, OCCURRED.replace(microsecond=123456), OCCURRED.astimezone(timezone(timedelta(hours=2)))],
    ids=["utc", "utc-microseconds", "plus-two-hours"],
)
def test_the_cloudevents_time_is_the_events_occurred_at_in_rfc_3339(occurred_at: datetime) -> None:
    headers = cloudevent_headers(_event(CertificateCreated, occurred_at=occurred_at), source=SOURCE)
    ce_time = headers["ce_time"]
    assert ce_time.endswith(("Z", "+02:00"))
    assert "T" in ce_time
    assert datetime.fromisoformat(ce_time) == occurred_at
