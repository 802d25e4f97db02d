"""Amounts as integer minor units with their currency; shown to people with the currency's digits."""

from dataclasses import dataclass

from giftcert_contracts.currencies import MINOR_UNIT_DIGITS
from giftcert_contracts.money import Money


@dataclass(frozen=True, slots=True)
class Amount:
    minor: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> "Amount":
        return cls(money.minor, money.currency)

    def to_money(self) -> Money:
        return Money(minor=self.minor, currency=self.currency)

    def formatted(self) -> str:
        """`EUR 1,234.50`, `JPY 5,000`: grouping by thousands, the currency's own decimals."""
        digits = MINOR_UNIT_DIGITS.get(self.currency, 2)
        sign = "-" if self.minor < 0 else ""
        whole, fraction = divmod(abs(self.minor), 10**digits)
        text = f"{whole:,}"
        if digits:
            text += f".{fraction:0{digits}d}"
        return f"{self.currency} {sign}{text}"
