"""An order's certificates (scope `admin`, contract v2 "Orders"): what each certificate contributed
to one booking order: its holds (live ones count as held), and the value it applied by redemptions
and captures, net of refunds."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from giftcert.operations.orders import OrderDetails, OrderNotFoundError, order_details
from giftcert_contracts.fields import ExternalId
from giftcert_contracts.money import Balance
from giftcert_services.api.access import AdminKey, Deps
from giftcert_services.api.problems import ApiError
from giftcert_services.api.responses import REFUSALS

router = APIRouter(prefix="/v1/workspaces/{workspace}/orders", tags=["orders"])


class HoldOut(BaseModel):
    hold_id: UUID
    amount: Balance
    state: Literal["live", "captured", "released", "expired"] = Field(
        description="`expired` as soon as `expires_at` has passed, whether or not a tick has seen it."
    )
    expires_at: datetime
    placed_at: datetime
    ended_at: datetime | None
    captured: Balance | None


class ApplicationOut(BaseModel):
    kind: Literal["redeemed", "captured", "refunded"] = Field(
        description="A direct redemption, a hold's capture, or value given back (its amount is negative)."
    )
    request_id: str = Field(description="The redeem's or capture's request_id (a refund's redemption_id names it).")
    amount: int = Field(description="Minor units applied to the order; negative for a refund.")
    currency: str
    occurred_at: datetime


class ContributionOut(BaseModel):
    certificate_id: UUID
    code_last4: str
    applied: int = Field(description="Minor units the certificate applied to the order, net of refunds.")
    held: int = Field(description="Minor units its live holds reserve for the order now.")
    currency: str
    applications: list[ApplicationOut]
    holds: list[HoldOut]


class OrderOut(BaseModel):
    order_id: str
    received: int = Field(description="What the order's certificates applied, net of refunds (minor units).")
    held: int = Field(description="What their live holds reserve now (minor units).")
    certificates: list[ContributionOut]

    @classmethod
    def of(cls, details: OrderDetails, now: datetime) -> "OrderOut":
        return cls(
            order_id=details.order_id, received=details.received_minor, held=details.held_minor,
            certificates=[
                ContributionOut(
                    certificate_id=c.certificate_id, code_last4=c.code_last4, applied=c.applied_minor,
                    held=c.held_minor, currency=c.currency,
                    applications=[
                        ApplicationOut(
                            kind=e.kind.value,
                            request_id=e.request_id, amount=-e.amount.minor, currency=e.amount.currency,
                            occurred_at=e.occurred_at,
                        )
                        for e in c.entries
                    ],
                    holds=[
                        HoldOut(
                            hold_id=h.id, amount=Balance(minor=h.amount.minor, currency=h.amount.currency),
                            state="expired" if h.state.value == "live" and not h.is_live(now) else h.state.value,
                            expires_at=h.expires_at, placed_at=h.created_at, ended_at=h.ended_at,
                            captured=None if h.captured_minor is None
                            else Balance(minor=h.captured_minor, currency=h.amount.currency),
                        )
                        for h in c.holds
                    ],
                )
                for c in details.certificates
            ],
        )


@router.get("/{order_id}", responses={**REFUSALS, 404: {"description": "No certificate contributed to this order."}})
async def show_order(key: AdminKey, deps: Deps, order_id: Annotated[ExternalId, Path()]) -> OrderOut:
    """What each certificate contributed to the order: live and ended holds, redemptions, captures, refunds."""
    now = deps.clock.now()
    try:
        details = await order_details(deps.new_uow(), key.workspace_id, order_id, now)
    except OrderNotFoundError as error:
        raise ApiError(404, "not_found", str(error)) from None
    return OrderOut.of(details, now)
