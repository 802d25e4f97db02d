"""Certificate products in memory (giftcert.store.products)."""

from datetime import datetime
from uuid import UUID

from giftcert.domain.product import Product
from tests.fakes.state import Transaction


class FakeProductRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def of_workspace(self, workspace_id: str) -> list[Product]:
        found = [p for p in self._tx.state.products.values() if p.workspace_id == workspace_id]
        return sorted(found, key=lambda p: (p.name, p.id))

    async def get(self, workspace_id: str, product_id: UUID) -> Product | None:
        product = self._tx.state.products.get(product_id)
        return product if product is not None and product.workspace_id == workspace_id else None

    async def put(self, product: Product, now: datetime) -> None:
        del now
        self._tx.state.products[product.id] = product
