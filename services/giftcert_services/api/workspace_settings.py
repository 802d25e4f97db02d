"""Operators' workspace routes (scope `admin`): the workspace's settings and its certificate products.
Their commands take an optional Idempotency-Key header (idempotency.py): a repeat gets the first answer."""

import dataclasses
from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from giftcert.domain.product import Product
from giftcert.store.unit_of_work import PostgresUnitOfWork as UnitOfWork
from giftcert_services.api.access import AdminKey, Deps
from giftcert_services.api.idempotency import KeyHeader, answered_once, header_key
from giftcert_services.api.models import ProductBody, ProductOut, SettingsChange, SettingsOut
from giftcert_services.api.problems import ApiError
from giftcert_services.api.responses import INCONSISTENT, KEY_REUSED, REFUSALS

router = APIRouter(prefix="/v1/workspaces/{workspace}", tags=["workspace"])


@router.get("/settings", responses=REFUSALS)
async def read_settings(key: AdminKey, deps: Deps) -> SettingsOut:
    """A workspace nobody has configured yet shows the defaults it sells under."""
    async with deps.new_uow() as uow:
        return SettingsOut.of(await uow.workspaces.get_or_default(key.workspace_id))


@router.patch("/settings", response_model=SettingsOut, responses=REFUSALS | INCONSISTENT | KEY_REUSED)
async def change_settings(
    key: AdminKey, deps: Deps, change: SettingsChange, idempotency_key: KeyHeader = None
) -> JSONResponse:
    async def apply(uow: UnitOfWork) -> SettingsOut:
        current = await uow.workspaces.get_or_default(key.workspace_id)
        try:
            updated = dataclasses.replace(current, **change.model_dump(exclude_none=True))
        except ValueError as error:
            raise ApiError(422, "invalid", str(error)) from None
        await uow.workspaces.put(updated, deps.clock.now())
        return SettingsOut.of(updated)

    request = header_key(key.workspace_id, "change-settings", idempotency_key, change)
    return await answered_once(deps, request, 200, apply)


@router.get("/products", responses=REFUSALS)
async def list_products(key: AdminKey, deps: Deps) -> list[ProductOut]:
    async with deps.new_uow() as uow:
        return [ProductOut.of(p) for p in await uow.products.of_workspace(key.workspace_id)]


@router.post(
    "/products", status_code=201, response_model=ProductOut, responses=REFUSALS | INCONSISTENT | KEY_REUSED
)
async def create_product(
    key: AdminKey, deps: Deps, body: ProductBody, idempotency_key: KeyHeader = None
) -> JSONResponse:
    """A new product; with an Idempotency-Key, a repeat answers the product the first request made."""
    product = _product(key.workspace_id, uuid4(), body)
    request = header_key(key.workspace_id, "create-product", idempotency_key, body)
    return await answered_once(deps, request, 201, _put(deps, product))


@router.get("/products/{product_id}", responses=REFUSALS | {404: {"description": "No such product."}})
async def read_product(key: AdminKey, deps: Deps, product_id: UUID) -> ProductOut:
    async with deps.new_uow() as uow:
        product = await uow.products.get(key.workspace_id, product_id)
    if product is None:
        raise ApiError(404, "not_found", f"no product {product_id} in workspace {key.workspace_id}")
    return ProductOut.of(product)


@router.put(
    "/products/{product_id}", response_model=ProductOut,
    responses=REFUSALS | INCONSISTENT | KEY_REUSED | {404: {"description": "No such product."}},
)
async def replace_product(
    key: AdminKey, deps: Deps, product_id: UUID, body: ProductBody, idempotency_key: KeyHeader = None
) -> JSONResponse:
    """Replaces the product; a product is never deleted (certificates refer to it): set `active` false."""
    await read_product(key, deps, product_id)
    product = _product(key.workspace_id, product_id, body)
    request = header_key(key.workspace_id, "replace-product", idempotency_key, body, product_id=product_id)
    return await answered_once(deps, request, 200, _put(deps, product))


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


def _put(deps: Deps, product: Product) -> Callable[[UnitOfWork], Awaitable[ProductOut]]:
    async def put(uow: UnitOfWork) -> ProductOut:
        await uow.products.put(product, deps.clock.now())
        return ProductOut.of(product)

    return put
