"""Idempotency keys bound to the request they first came with: one row per (workspace, operation,
key), holding the request's fingerprint. A key that comes back with the same request is a repeat;
with another request it is refused (IdempotencyKeyReusedError), never answered as a repeat.

The same request means the same fingerprint: the SHA-256 of the canonical JSON of the request as
validated (the contract's command, or the HTTP body model with the path's ids), defaults filled in,
keys sorted, no whitespace, UTF-8; the key itself and the fields that do not change the decision
(NOT_THE_REQUEST: the workspace, which the row names anyway, the times the service stamps, the actor)
are left out. So `{"message": null}` and a body without `message` are one request, and so are two
spellings of the same JSON; an amount, an address, a reason or a list's order that differs is not.

The first request to bind a key owns it from then on, whatever comes of it (a refusal, a transient
fault): binding is an insert on the primary key, so of two requests racing with one key exactly one
binds it, and the other waits for it and is then compared with it. A route that answers from the
database alone may keep its answer on the row (`remember_answer`) in the same transaction as its
change, and a repeat gets that answer back. The statements that bind and remember are the store's
(store/request_keys.py).

A booking platform's command (`booking_request_key`) is bound by both of its doors with the same
fingerprint: the HTTP route before it asks the ledger, the ledger's handler in the transaction of its
decision, so a key is bound to its first request whichever door that came by (decision 33)."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from giftcert.domain.codes import normalize_code

NOT_THE_REQUEST = frozenset({"workspace_id", "requested_at", "completed_at", "actor"})


def fingerprint(request: BaseModel | Mapping[str, Any], *, key_field: str | None = None) -> str:
    """The request's fingerprint (see the module's docstring); `key_field` names the key's own field."""
    leave_out = NOT_THE_REQUEST | ({key_field} if key_field else set())
    fields = request.model_dump(mode="json") if isinstance(request, BaseModel) else dict(request)
    kept = {name: value for name, value in fields.items() if name not in leave_out}
    canonical = json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RequestKey:
    workspace_id: str
    operation: str
    """The key space: the contract's topic for a command the ledger decides (a purchase over HTTP and
    `purchase-requested` share `certificate_id`), else the HTTP route's own name."""
    key: str
    fingerprint: str


def booking_request_key(command: BaseModel, topic: str) -> RequestKey:
    """The request key of a booking platform's command (keyed by its `request_id`) in its topic's key
    space, the same on both doors. Its code counts in its matching form (case, spaces and dashes
    ignored): the same code in another spelling is the same request."""
    code = getattr(command, "code", None)
    if isinstance(code, str):
        command = command.model_copy(update={"code": normalize_code(code) or code})
    return RequestKey(
        workspace_id=getattr(command, "workspace_id"),  # noqa: B009 - every contract command has one
        operation=str(topic),
        key=str(getattr(command, "request_id")),  # noqa: B009
        fingerprint=fingerprint(command, key_field="request_id"),
    )


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class Bound:
    first: bool
    """True when this request is the first with its key."""
    answer: Answer | None = None
    """For a repeat: the answer the first request kept, if it kept one."""


class IdempotencyKeyReusedError(Exception):
    def __init__(self, key: RequestKey) -> None:
        detail = (
            f"the idempotency key {key.key!r} was first used with another {key.operation} request; "
            "a repeat must send the same body, a new request needs a new key"
        )
        super().__init__(detail)
        self.detail = detail
