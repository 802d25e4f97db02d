"""How a booking platform's command becomes an HTTP route: one `BookingRoute` declaration each
(booking.py holds them), scope `booking` (admin allows it too).

- The body is the contract's command without `workspace_id` (the path's); `request_id` may come in
  the body, as the `Idempotency-Key` header, or in both when they agree (422
  `idempotency_key_mismatch` when not; 422 when neither); `requested_at`, where the command has one,
  is optional (the service's clock when absent) and, as on the Kafka door, not part of the request's
  identity.
- It is decided by the same ledger handler as the Kafka message, under the same inbox key
  (giftcert.operations.booking): a repeat on either door gets the stored decision; the key with
  another request is 409 `idempotency_key_reused`.
- The decision is the answer, whatever it is, and the same on every repeat: an accepted command is
  200 with its event as the body (without `sequence`, which numbers a certificate's published
  events); a refused one is a business answer, not a fault: 409 with the contract's reason as
  `error.code` and the `-rejected` event as `error.decision`, or 429 with Retry-After where the
  reason is `too_many_attempts` (decision 29)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, create_model

from giftcert.operations.booking import decide_booking_command
from giftcert_contracts.outbound import Event
from giftcert_contracts.topics import Topic
from giftcert_services.api.access import BookingKey, Deps
from giftcert_services.api.idempotency import KeyHeader, one_key
from giftcert_services.api.problems import ApiError, error_body
from giftcert_services.api.responses import REFUSALS, Responses
from giftcert_services.runtime.bootstrap import Dependencies

C = TypeVar("C", bound=BaseModel)
THROTTLED = "too_many_attempts"
_STAMPED = "requested_at"
_FILLED_BY_THE_DOOR = frozenset({"workspace_id", "request_id", _STAMPED})


@dataclass(frozen=True, slots=True)
class BookingRoute(Generic[C]):
    path: str
    """Under /v1/workspaces/{workspace}, e.g. `/redemptions`."""
    name: str
    command: type[C]
    """The contract's inbound model: the body is its fields but workspace_id."""
    topic: Topic
    """The command's Kafka topic: its key space for the idempotency key."""
    decide: Callable[[C, Dependencies], Awaitable[Event]]
    """The ledger handler's decision on one command (the Kafka door's handler with a batch of one)."""
    accepted: type[Event]
    refused: type[Event]
    summary: str
    description: str


def body_model(command: type[BaseModel]) -> type[BaseModel]:
    """The HTTP body of a contract command: its fields but workspace_id, request_id optional (it may
    come as the header), requested_at optional; unknown fields refused like every HTTP body's."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name not in _FILLED_BY_THE_DOOR
    }
    fields["request_id"] = (UUID | None, Field(
        None, description="The idempotency key (or the Idempotency-Key header); the contract's `request_id`."
    ))
    if _STAMPED in command.model_fields:
        fields[_STAMPED] = (AwareDatetime | None, Field(None, description="Default: when the service receives it."))
    model: type[BaseModel] = create_model(
        f"{command.__name__}Body", __config__=ConfigDict(extra="forbid"), __doc__=command.__doc__, **fields
    )
    return model


def command_of(route: BookingRoute[C], workspace_id: str, body: BaseModel, header: str | None, now: datetime) -> C:
    request_id = one_key(header, getattr(body, "request_id", None), "request_id", UUID)
    if request_id is None:
        raise ApiError(422, "invalid", "the request needs its request_id, in the body or as the Idempotency-Key header")
    fields = body.model_dump(exclude={"request_id"}) | {"workspace_id": workspace_id, "request_id": request_id}
    if _STAMPED in route.command.model_fields and fields.get(_STAMPED) is None:
        fields[_STAMPED] = now
    try:
        return route.command.model_validate(fields)
    except ValidationError as error:  # the contract's own rules (a time between 1970 and 9000...): 422, as the body's
        raise RequestValidationError(
            [problem | {"loc": ("body", *problem["loc"])} for problem in error.errors()]
        ) from None


def answer(decision: Event, retry_after_seconds: int) -> JSONResponse:
    """The HTTP answer of a decision (module docstring)."""
    event = decision.model_dump(mode="json", exclude={"sequence"})  # numbered in the outbox, for the topics only
    reason = event.get("reason")
    if not decision.topic.value.endswith("-rejected") or not isinstance(reason, str):
        return JSONResponse(event, status_code=200)
    if reason == THROTTLED:
        return JSONResponse(
            error_body(reason, event["detail"], decision=event), status_code=429,
            headers={"Retry-After": str(retry_after_seconds)},
        )
    return JSONResponse(error_body(reason, event["detail"], decision=event), status_code=409)


def _documented(route: BookingRoute[Any]) -> Responses:
    return {
        **REFUSALS,
        200: {"model": route.accepted, "description": f"Accepted: the `{route.accepted.topic.value}` event."},
        409: {"description": f"Refused by the ledger: `error.code` is the contract's reason and `error.decision` "
                             f"the `{route.refused.topic.value}` event; or `idempotency_key_reused`: the "
                             "request_id came before with another body. A repeat gets the same answer."},
        422: {"description": "An invalid body, no request_id, or `idempotency_key_mismatch`: the Idempotency-Key "
                             "header and the body's request_id differ."},
        429: {"description": "`too_many_attempts`: too many unknown codes (the guessing limit); the decision, "
                             "stored like the others, in `error.decision`. Retry-After says when a new "
                             "request (a new request_id) may be tried."},
    }


def add_booking_route(router: APIRouter, route: BookingRoute[C]) -> None:
    async def endpoint(key: BookingKey, deps: Deps, body: BaseModel, idempotency_key: KeyHeader = None) -> JSONResponse:
        command = command_of(route, key.workspace_id, body, idempotency_key, deps.clock.now())

        async def decide(one: C) -> Event:
            return await route.decide(one, deps)

        decision = await decide_booking_command(command, route.topic, deps.new_uow, deps.clock, decide)
        window = deps.settings.guessing_limit.window.total_seconds()
        return answer(decision, max(1, round(window)))

    endpoint.__annotations__["body"] = body_model(route.command)
    endpoint.__name__ = route.name
    router.post(
        route.path, summary=route.summary, description=route.description, responses=_documented(route),
        response_class=JSONResponse, response_model=None,
    )(endpoint)
