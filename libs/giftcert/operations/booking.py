"""The booking platform's commands from the HTTP door (redeem now; hold, capture, release and refund
as they come): decided by the same ledger handler as their Kafka message, under the same inbox key,
so a request sent on one door and repeated on the other gets the stored decision.

The request's key (`request_id`) is first bound to the request in its topic's key space
(messaging/request_keys.py, `booking_request_key`): the same key with another request is refused
with `idempotency_key_reused` before the ledger is asked. The ledger's handler binds the key of each
request it decides, with the same fingerprint, in the transaction of its decision (decision 33), so
this holds whichever door came first.

One case remains where this door binds a key the ledger has decided already: a key the Kafka door
decided before it bound keys (an older release; such keys age out with the inbox's retention), or
a Kafka message decided between this door's binding and its asking. There the decision is compared
with the request instead: the fields it names of the request (`request_id`, `order_id`, `hold_id`,
`redemption_id`, and a code's last four characters) must be the request's own, else
`idempotency_key_reused`, and the binding is removed again so that the first request's true repeat
still gets its decision (decision 29)."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel

from giftcert.clock import Clock
from giftcert.domain.codes import normalize_code
from giftcert.messaging.request_keys import booking_request_key
from giftcert.operations.errors import CommandRefusedError
from giftcert.operations.request_keys import KEY_REUSED, bind_request_key
from giftcert.store.request_keys import forget
from giftcert.store.unit_of_work import NewPostgresUnitOfWork
from giftcert_contracts.outbound import Event
from giftcert_contracts.topics import Topic

C = TypeVar("C", bound=BaseModel)
_NAMED_BY_DECISIONS = ("request_id", "order_id", "hold_id", "redemption_id")


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
    key = booking_request_key(command, topic)
    bound = await bind_request_key(new_uow, clock, key)
    decision = await decide(command)
    if bound.first and not decision_is_of(command, decision):  # decided before this door bound the key
        async with new_uow() as uow:
            await forget(uow.connection, key)
            await uow.commit()
        raise CommandRefusedError(
            KEY_REUSED,
            f"the idempotency key {key.key!r} was first used with another {topic.value} request; "
            "a repeat must send the same body, a new request needs a new key",
        )
    return decision
