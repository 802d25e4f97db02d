"""The booking platform's commands from the HTTP door (redeem now; hold, capture, release and refund
as they come): decided by the same ledger handler as their Kafka message, under the same inbox key,
so a request sent on one door and repeated on the other gets the stored decision.

The request's key (`request_id`) is first bound to the request in its topic's key space
(operations/request_keys.py): the same key with another request over HTTP is refused with
`idempotency_key_reused` before the ledger is asked. A key first used on the Kafka door has no
fingerprint (that door binds none, decision 24), so its repeat over HTTP is compared with the stored
decision instead: the fields the decision names of the request (`request_id`, `order_id`, `hold_id`,
`redemption_id`, and a code's last four characters) must be the request's own. What the decision
does not name (an `order_total`, a `segment`, an `amount`) cannot be told apart there: such a request
gets the stored decision (decision 29). A request refused so does not keep the key bound to itself,
so that the Kafka message's true repeat over HTTP still gets its decision.

A code is part of the request in its matching form (case, spaces and dashes ignored), so the same
code in another spelling is the same request."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel

from giftcert.clock import Clock
from giftcert.domain.codes import normalize_code
from giftcert.operations.errors import CommandRefusedError
from giftcert.operations.request_keys import KEY_REUSED, bind_request_key, key_of
from giftcert.store.request_keys import forget
from giftcert.store.unit_of_work import NewPostgresUnitOfWork
from giftcert_contracts.outbound import Event
from giftcert_contracts.topics import Topic

C = TypeVar("C", bound=BaseModel)
_NAMED_BY_DECISIONS = ("request_id", "order_id", "hold_id", "redemption_id")


def _as_fingerprinted(command: C) -> C:
    code = getattr(command, "code", None)
    if isinstance(code, str):
        return command.model_copy(update={"code": normalize_code(code) or code})
    return command


def decision_is_of(command: BaseModel, decision: Event) -> bool:
    """Whether `decision` can be this request's: every field of the request that it names agrees."""
    for name in _NAMED_BY_DECISIONS:
        if name in type(command).model_fields and name in type(decision).model_fields:
            named = getattr(decision, name)
            if named is not None and str(named) != str(getattr(command, name)):
                return False
    last4 = getattr(decision, "code_last4", None)
    code = getattr(command, "code", None)
    if isinstance(last4, str) and isinstance(code, str):
        return (normalize_code(code) or "")[-4:] == last4
    return True


async def decide_booking_command(
    command: C, topic: Topic, new_uow: NewPostgresUnitOfWork, clock: Clock,
    decide: Callable[[C], Awaitable[Event]],
) -> Event:
    """The ledger's decision on `command` (first or stored); CommandRefusedError
    `idempotency_key_reused` when its `request_id` came before with another request."""
    key = key_of(_as_fingerprinted(command), topic, "request_id")
    bound = await bind_request_key(new_uow, clock, key)
    decision = await decide(command)
    if not decision_is_of(command, decision):
        if bound.first:  # the key's first request came by Kafka: leave the key for its true repeats
            async with new_uow() as uow:
                await forget(uow.connection, key)
                await uow.commit()
        raise CommandRefusedError(
            KEY_REUSED,
            f"the idempotency key {str(getattr(command, 'request_id'))!r} was first used with another "  # noqa: B009
            f"{topic.value} request; a repeat must send the same body, a new request needs a new key",
        )
    return decision
