"""Operators' report routes (scope `admin`): sales over a period, and what expires soon."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from giftcert.operations.reports import ExpiringCertificate, SalesReport, expiring_certificates, sales_report
from giftcert_services.api.access import AdminKey, Deps
from giftcert_services.api.problems import ApiError
from giftcert_services.api.responses import REFUSALS

router = APIRouter(prefix="/v1/workspaces/{workspace}/reports", tags=["reports"])

Day = Annotated[date | None, Query(description="A UTC day, YYYY-MM-DD; both ends are included.")]


@router.get("/sales", responses=REFUSALS | {422: {"description": "`from` after `to`."}})
async def read_sales_report(
    key: AdminKey, deps: Deps, start: Annotated[Day, Query(alias="from")] = None,
    end: Annotated[Day, Query(alias="to")] = None,
) -> SalesReport:
    """Sales in the workspace's currency; the last 365 days up to today when no period is given."""
    end = end or deps.clock.now().date()
    start = start or end - timedelta(days=364)
    if start > end:
        raise ApiError(422, "invalid", f"the period starts ({start}) after it ends ({end})")
    async with deps.new_uow() as uow:
        currency = (await uow.workspaces.get_or_default(key.workspace_id)).currency
    async with deps.engine.connect() as connection:
        return await sales_report(connection, key.workspace_id, start=start, end=end, currency=currency)


@router.get("/expiring", responses=REFUSALS)
async def read_expiring(
    key: AdminKey, deps: Deps,
    within_days: Annotated[int | None, Query(ge=0, le=3650, description="Default: the reminder window.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ExpiringCertificate]:
    """Active certificates expiring within the window, soonest first."""
    async with deps.new_uow() as uow:
        settings = await uow.workspaces.get_or_default(key.workspace_id)
    window = settings.reminder_days if within_days is None else within_days
    async with deps.engine.connect() as connection:
        return await expiring_certificates(
            connection, key.workspace_id, now=deps.clock.now(), within_days=window, limit=limit
        )
