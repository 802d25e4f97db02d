"""Money on the wire: integer minor units and an ISO 4217 currency code, never a float."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from giftcert_contracts.currencies import MINOR_UNIT_DIGITS

MAX_MINOR = 1_000_000_000


def _known_currency(code: str) -> str:
    if code not in MINOR_UNIT_DIGITS:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code in circulation")
    return code


CurrencyCode = Annotated[
    str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$"), AfterValidator(_known_currency)
]


class Money(BaseModel):
    """A positive amount: what a certificate is worth or what a payment carried."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR)]
    currency: CurrencyCode


class OrderTotal(BaseModel):
    """An order's total at checkout; zero is a valid total (and fits no certificate)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    minor: Annotated[StrictInt, Field(ge=0, le=MAX_MINOR * 1000)]
    currency: CurrencyCode


class Balance(BaseModel):
    """What is left on a certificate; zero once it is used up."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    minor: Annotated[StrictInt, Field(ge=0, le=MAX_MINOR)]
    currency: CurrencyCode


class RequestedAmount(BaseModel):
    """An amount a caller asks to apply. Any integer is read, so that zero, a negative amount or
    another currency than the certificate's is answered (`invalid_amount`), not dead-lettered."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    minor: Annotated[StrictInt, Field(ge=-MAX_MINOR * 1000, le=MAX_MINOR * 1000)]
    currency: CurrencyCode
