"""Certificate products in PostgreSQL (giftcert.domain.product)."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.product import Product
from giftcert.store.schema import products


def _from_row(row: RowMapping) -> Product:
    return Product(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        fixed_amounts=tuple(row["fixed_amounts"]),
        min_minor=row["min_minor"],
        max_minor=row["max_minor"],
        segments=tuple(row["segments"]),
        segment_restricted_redemption=row["segment_restricted_redemption"],
        active=row["active"],
    )


class ProductRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def of_workspace(self, workspace_id: str) -> list[Product]:
        query = select(products).where(products.c.workspace_id == workspace_id).order_by(products.c.name, products.c.id)
        return [_from_row(row) for row in (await self._connection.execute(query)).mappings()]

    async def get(self, workspace_id: str, product_id: UUID) -> Product | None:
        query = select(products).where(products.c.workspace_id == workspace_id, products.c.id == product_id)
        row = (await self._connection.execute(query)).mappings().first()
        return None if row is None else _from_row(row)

    async def put(self, product: Product, now: datetime) -> None:
        values = {
            "workspace_id": product.workspace_id,
            "name": product.name,
            "fixed_amounts": list(product.fixed_amounts),
            "min_minor": product.min_minor,
            "max_minor": product.max_minor,
            "segments": list(product.segments),
            "segment_restricted_redemption": product.segment_restricted_redemption,
            "active": product.active,
        }
        statement = insert(products).values(id=product.id, **values, created_at=now, updated_at=now)
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=[products.c.id], set_={**values, "updated_at": now})
        )
