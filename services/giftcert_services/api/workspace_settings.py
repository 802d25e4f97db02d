"""Operators' workspace routes (scope `admin`): the workspace's settings and its certificate products."""

import dataclasses
from uuid import UUID, uuid4

from fastapi import APIRouter, Response

from giftcert.domain.product import Product
from giftcert_services.api.access import AdminKey, Deps
from giftcert_services.api.models import ProductBody, ProductOut, SettingsChange, SettingsOut
from giftcert_services.api.problems import ApiError
from giftcert_services.api.responses import INCONSISTENT, REFUSALS

router = APIRouter(prefix="/v1/workspaces/{workspace}", tags=["workspace"])


@router.get("/settings", responses=REFUSALS)
async def read_settings(key: AdminKey, deps: Deps) -> SettingsOut:
    """A workspace nobody has configured yet shows the defaults it sells under."""
    async with deps.new_uow() as uow:
        return SettingsOut.of(await uow.workspaces.get_or_default(key.workspace_id))


@router.patch("/settings", responses=REFUSALS | INCONSISTENT)
async def change_settings(key: AdminKey, deps: Deps, change: SettingsChange) -> SettingsOut:
    async with deps.new_uow() as uow:
        current = await uow.workspaces.get_or_default(key.workspace_id)
        try:
            updated = dataclasses.replace(current, **change.model_dump(exclude_none=True))
        except ValueError as error:
            raise ApiError(422, "invalid", str(error)) from None
        await uow.workspaces.put(updated, deps.clock.now())
        await uow.commit()
    return SettingsOut.of(updated)


@router.get("/products", responses=REFUSALS)
async def list_products(key: AdminKey, deps: Deps) -> list[ProductOut]:
    async with deps.new_uow() as uow:
        return [ProductOut.of(p) for p in await uow.products.of_workspace(key.workspace_id)]


@router.post("/products", status_code=201, responses=REFUSALS | INCONSISTENT)
async def create_product(key: AdminKey, deps: Deps, body: ProductBody) -> ProductOut:
    return await _put(deps, _product(key.workspace_id, uuid4(), body))


@router.get("/products/{product_id}", responses=REFUSALS | {404: {"description": "No such product."}})
async def read_product(key: AdminKey, deps: Deps, product_id: UUID) -> ProductOut:
    async with deps.new_uow() as uow:
        product = await uow.products.get(key.workspace_id, product_id)
    if product is None:
        raise ApiError(404, "not_found", f"no product {product_id} in workspace {key.workspace_id}")
    return ProductOut.of(product)


@router.put("/products/{product_id}", responses=REFUSALS | INCONSISTENT | {404: {"description": "No such product."}})
async def replace_product(
    key: AdminKey, deps: Deps, product_id: UUID, body: ProductBody, response: Response
) -> ProductOut:
    """Replaces the product; a product is never deleted (certificates refer to it): set `active` false."""
    await read_product(key, deps, product_id)
    response.status_code = 200
    return await _put(deps, _product(key.workspace_id, product_id, body))


def _product(workspace_id: str, product_id: UUID, body: ProductBody) -> Product:
    try:
        return Product(
            id=product_id, workspace_id=workspace_id, name=body.name,
            fixed_amounts=tuple(sorted(set(body.fixed_amounts))),
            min_minor=body.min_minor, max_minor=body.max_minor, segments=tuple(dict.fromkeys(body.segments)),
            segment_restricted_redemption=body.segment_restricted_redemption, active=body.active,
        )
    except ValueError as error:
        raise ApiError(422, "invalid", str(error)) from None


async def _put(deps: Deps, product: Product) -> ProductOut:
    async with deps.new_uow() as uow:
        await uow.products.put(product, deps.clock.now())
        await uow.commit()
    return ProductOut.of(product)
