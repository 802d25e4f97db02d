"""The balance inquiry, `POST .../balance` (scopes portal and booking; admin allows every scope): the
code in the body, never in a URL. 200 with what the certificate is worth now; an unknown code is 404
`not_found` and counts toward the code-guessing limit as a redemption's would (per workspace, and
per calling address for a portal key); a throttled caller gets 429 `too_many_attempts` with
Retry-After (giftcert.operations.balance)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from giftcert.domain.api_key import Scope
from giftcert.operations.balance import BalanceInquiry, CodeNotFoundError, TooManyAttemptsError, inquire_balance
from giftcert_contracts.money import Balance
from giftcert_services.api.access import BalanceKey, Deps
from giftcert_services.api.problems import ApiError
from giftcert_services.api.responses import REFUSALS

router = APIRouter(prefix="/v1/workspaces/{workspace}", tags=["balance"])


class BalanceInquiryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=64, description="In any spelling: case, spaces and "
                                                                           "dashes are ignored.")]


class CertificateBalanceBody(BaseModel):
    code_last4: str
    status: str = Field(description="pending, active, redeemed, voided or expired.")
    balance: Balance = Field(description="Its value minus what was applied, plus what was refunded.")
    available: Balance = Field(description="The balance minus its live holds: what a redemption may apply now.")
    expires_at: datetime | None


@router.post(
    "/balance",
    responses={
        **REFUSALS,
        404: {"description": "`not_found`: no certificate of this workspace has this code (counted as a guess)."},
        422: {"description": "An invalid body."},
        429: {"description": "`too_many_attempts`: too many unknown codes (the guessing limit); see Retry-After."},
    },
)
async def inquire(key: BalanceKey, deps: Deps, body: BalanceInquiryBody, request: Request) -> CertificateBalanceBody:
    """What a certificate is worth now, by its code. Unknown codes count toward the workspace's
    code-guessing limit (shared with redemptions); with a portal key, whose pages face the public,
    toward the calling address's own limit as well."""
    asker = (request.client.host if request.client else "unknown") if key.scope is Scope.PORTAL else None
    inquiry = BalanceInquiry(key.workspace_id, body.code, asker=asker)
    try:
        found = await inquire_balance(inquiry, deps.new_uow(), deps.clock, deps.settings.guessing_limit)
    except CodeNotFoundError as unknown:
        raise ApiError(404, "not_found", str(unknown)) from None
    except TooManyAttemptsError as throttled:
        raise ApiError(
            429, "too_many_attempts", str(throttled), {"Retry-After": str(throttled.retry_after_seconds)}
        ) from None
    return CertificateBalanceBody(
        code_last4=found.code_last4, status=found.status, expires_at=found.expires_at,
        balance=Balance(minor=found.balance.minor, currency=found.balance.currency),
        available=Balance(minor=found.available.minor, currency=found.available.currency),
    )
