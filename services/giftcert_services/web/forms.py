"""Reading the pages' forms: amounts typed in major units, a purchase's fields checked by the wire
contract's own model, and its problems named by the form field they belong to (in English, marked for
the catalogs: the page shows them in its language)."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from giftcert.locales import gettext_noop
from giftcert_contracts.currencies import MINOR_UNIT_DIGITS
from giftcert_contracts.inbound import PurchaseRequested

_FIELD_NAMES = {
    "amount": "amount", "amount_minor": "amount", "amount_currency": "amount", "purchaser_name": "purchaser_name",
    "purchaser_email": "purchaser_email", "recipient_name": "recipient_name", "recipient_email": "recipient_email",
    "message": "message", "segment": "segment", "locale": "locale", "kind": "kind", "reason": "reason",
    "replaces_order_id": "replaces_order_id",
}
_KIND_RULE = {
    "kind_needs_reason": ("reason", gettext_noop("Give the reason: it is kept with the certificate.")),
    "credit_names_replaced_order": ("replaces_order_id", gettext_noop("Enter the order this credit replaces.")),
    "kind_takes_no_reason": ("kind", gettext_noop("Choose promotional or credit to give a reason or an order.")),
}
"""Where the contract's kind rule (PurchaseRequested's one validator) refuses, by its refusal's type:
the field it is about, and what the form says there."""


def minor_units(text: str, currency: str) -> int | None:
    """5000 for `50`, `50.00` or `50,00` in EUR; None when it is not an amount of this currency."""
    digits = MINOR_UNIT_DIGITS.get(currency, 2)
    cleaned = text.strip().replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    minor = value * 10**digits
    if not value.is_finite() or minor != minor.to_integral_value():
        return None
    return int(minor)


@dataclass
class PurchaseForm:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def purchase_command(form: PurchaseForm, data: dict[str, Any]) -> PurchaseRequested | None:
    """The purchase request the form describes, or None with form.errors filled in per field."""
    try:
        return PurchaseRequested.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            name = "_".join(str(part) for part in problem["loc"])
            message = problem["msg"]
            if not name and problem["type"] in _KIND_RULE:
                name, message = _KIND_RULE[problem["type"]]
            elif name == "locale":
                message = gettext_noop("Choose a language from the list.")
            elif problem["type"] == "string_pattern_mismatch":
                message = gettext_noop("Use one line of text, without control characters.")
            elif problem["type"] == "string_too_short":
                message = gettext_noop("This field is required.")
            elif "email" in name:
                message = gettext_noop("Enter an email address like name@example.com.")
            form.errors.setdefault(_FIELD_NAMES.get(name, "form"), message)
        return None
