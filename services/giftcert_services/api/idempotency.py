"""Idempotency keys over HTTP: the body's key field or an `Idempotency-Key` header, and the answer a
repeat gets.

A route whose body has a key field (`certificate_id`, `payment_reference`, `request_id`) takes the
key there, in the header, or in both when they agree (422 `idempotency_key_mismatch` when they do
not); the header may be quoted as a structured-field string (`"abc"`). The other commands (settings,
products, resend) take the header only, and without one are not idempotent. The same key with
another body is 409 `idempotency_key_reused` (giftcert.messaging.request_keys says what counts as
the same body); the same key with the same body gets the first answer."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter, ValidationError

from giftcert.messaging.request_keys import Answer, RequestKey, fingerprint
from giftcert.operations.request_keys import bind_in
from giftcert.store.request_keys import remember_answer
from giftcert.store.unit_of_work import PostgresUnitOfWork as UnitOfWork
from giftcert_contracts.fields import ExternalId
from giftcert_services.api.problems import ApiError
from giftcert_services.runtime.bootstrap import Dependencies

KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=130,
        description="The request's idempotency key; where the body has a key field too, both must agree.",
    ),
]
_KEY_TEXT = TypeAdapter(ExternalId)
K = TypeVar("K")


def _unquoted(header: str) -> str:
    if len(header) >= 2 and header[0] == header[-1] == '"':  # noqa: PLR2004 - the two quotes
        return header[1:-1]
    return header


def one_key(header: str | None, body_key: K | None, field: str, parse: Callable[[str], K]) -> K | None:
    """The request's key from the header and the body's `field`; 422 when the two disagree."""
    if header is None:
        return body_key
    try:
        from_header = parse(_unquoted(header))
    except (ValueError, ValidationError):
        raise ApiError(
            422, "invalid", f"the Idempotency-Key header is not a valid {field} (the key of this route)"
        ) from None
    if body_key is not None and body_key != from_header:
        raise ApiError(
            422, "idempotency_key_mismatch",
            f"the Idempotency-Key header and the body's {field} differ; send the key once, or the same in both",
        )
    return from_header


def text_key(value: str) -> str:
    return _KEY_TEXT.validate_python(value)


def header_key(
    workspace_id: str, operation: str, header: str | None, request: BaseModel | None = None, **ids: object
) -> RequestKey | None:
    """The key of a command that takes it in the header only, with what identifies its request: the
    body (if any) and the path's ids."""
    key = one_key(header, None, "idempotency key", text_key)
    if key is None:
        return None
    fields: dict[str, Any] = request.model_dump(mode="json") if request is not None else {}
    fields |= {name: str(value) for name, value in ids.items()}
    return RequestKey(workspace_id, operation, key, fingerprint(fields))


async def answered_once(
    deps: Dependencies, key: RequestKey | None, status: int, act: Callable[[UnitOfWork], Awaitable[BaseModel]]
) -> JSONResponse:
    """`act`'s answer, with the key bound and the answer kept in `act`'s own transaction; a repeat
    gets the kept answer without acting again."""
    async with deps.new_uow() as uow:
        if key is not None:
            bound = await bind_in(uow.connection, key, deps.clock.now())
            if bound.answer is not None:
                return JSONResponse(bound.answer.body, status_code=bound.answer.status)
        body = (await act(uow)).model_dump(mode="json")
        if key is not None:
            await remember_answer(uow.connection, key, Answer(status, body))
        await uow.commit()
    return JSONResponse(body, status_code=status)


async def answered_at_least_once(
    deps: Dependencies, key: RequestKey | None, status: int, act: Callable[[], Awaitable[BaseModel]]
) -> JSONResponse:
    """For a command with an effect outside the database (an email): the key is bound before it
    acts and the answer kept after, so a repeat after a crash in between acts again."""
    if key is not None:
        async with deps.new_uow() as uow:
            bound = await bind_in(uow.connection, key, deps.clock.now())
            await uow.commit()
        if bound.answer is not None:
            return JSONResponse(bound.answer.body, status_code=bound.answer.status)
    body = (await act()).model_dump(mode="json")
    if key is not None:
        async with deps.new_uow() as uow:
            await remember_answer(uow.connection, key, Answer(status, body))
            await uow.commit()
    return JSONResponse(body, status_code=status)
