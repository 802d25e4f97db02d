"""A certificate product: what a workspace sells, at which amounts, to which customer segments.

A workspace without products sells any amount within its own minimum and maximum to everyone. Once
it has active products, a purchase must fit one of them: its amount is one of the product's fixed
amounts (or within its range) and the buyer's segment is one the product is offered to (a product
with no segments is offered to everyone, with or without a segment)."""

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Product:
    id: UUID
    workspace_id: str
    name: str
    fixed_amounts: tuple[int, ...] = ()
    min_minor: int | None = None
    max_minor: int | None = None
    segments: tuple[str, ...] = ()
    segment_restricted_redemption: bool = False
    """Certificates sold as this product redeem only for the segment they were bought in."""
    active: bool = True

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a product needs a name")
        has_range = self.min_minor is not None or self.max_minor is not None
        if bool(self.fixed_amounts) == has_range:
            raise ValueError("a product has either fixed amounts or a range (min and max), not both or neither")
        if any(amount <= 0 for amount in self.fixed_amounts):
            raise ValueError("fixed amounts must be positive")
        if has_range and (self.min_minor is None or self.max_minor is None or not 0 < self.min_minor <= self.max_minor):
            raise ValueError("a product's range needs a positive minimum at most its maximum")
        if self.segment_restricted_redemption and not self.segments:
            raise ValueError("redemption can be restricted to a segment only for a product offered to segments")

    def offers_amount(self, minor: int) -> bool:
        if self.fixed_amounts:
            return minor in self.fixed_amounts
        return self.min_minor is not None and self.max_minor is not None and self.min_minor <= minor <= self.max_minor

    def offered_to(self, segment: str | None) -> bool:
        return not self.segments or segment in self.segments


def offered_products(products: Iterable[Product], segment: str | None) -> list[Product]:
    """The active products a buyer of this segment may choose from, in name order."""
    return sorted((p for p in products if p.active and p.offered_to(segment)), key=lambda p: (p.name, str(p.id)))
