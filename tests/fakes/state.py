"""The shared in-memory state a fake unit of work copies when it begins and swaps back when it
commits. Every row held here is immutable (frozen dataclasses, frozen pydantic events, JSON made of
fresh objects), so a copy of the containers is a full snapshot."""

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from giftcert.domain.certificate import Certificate
from giftcert.domain.hold import Hold
from giftcert.domain.product import Product
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.messaging.inbox import InboxKey
from giftcert.store.activity import ActivityEntry
from giftcert.store.documents import StoredDocument
from giftcert.store.parked_payments import Payment
from giftcert_contracts.outbound import Event
from giftcert_contracts.topics import Topic

Row = TypeVar("Row")


def as_stored(row: Row) -> Row:
    """The row as PostgreSQL gives it back: every time in UTC (asyncpg reads timestamptz so)."""
    changes = {
        f.name: value.astimezone(UTC)
        for f in fields(row)  # type: ignore[arg-type]
        if isinstance(value := getattr(row, f.name), datetime)
    }
    return replace(row, **changes) if changes else row  # type: ignore[type-var]


@dataclass(frozen=True, slots=True)
class LedgerRow:
    certificate_id: UUID
    workspace_id: str
    kind: str
    amount_minor: int
    currency: str
    request_id: str
    order_id: str | None
    occurred_at: datetime
    redemption_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboxRow:
    handled_at: datetime
    reply_topic: str | None = None
    reply: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ParkedRow:
    payment: Payment
    parked_at: datetime


@dataclass(frozen=True, slots=True)
class FailureRow:
    workspace_id: str
    order_id: str
    failed_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """What the relay would publish: the topic, the Kafka key, the CloudEvents headers and the event."""

    topic: Topic
    key: str
    headers: dict[str, str]
    event: Event


@dataclass
class State:
    workspaces: dict[str, tuple[WorkspaceSettings, datetime, datetime]] = field(default_factory=dict)
    certificates: dict[UUID, Certificate] = field(default_factory=dict)
    products: dict[UUID, Product] = field(default_factory=dict)
    activity: list[ActivityEntry] = field(default_factory=list)
    ledger: list[LedgerRow] = field(default_factory=list)
    holds: dict[UUID, Hold] = field(default_factory=dict)
    documents: dict[UUID, StoredDocument] = field(default_factory=dict)
    redemption_failures: list[FailureRow] = field(default_factory=list)
    parked_payments: dict[tuple[str, str], ParkedRow] = field(default_factory=dict)
    inbox: dict[InboxKey, InboxRow] = field(default_factory=dict)
    request_keys: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """Each bound (workspace, operation, key): its request's fingerprint."""
    outbox: list[OutboxRecord] = field(default_factory=list)
    sequences: dict[UUID, int] = field(default_factory=dict)
    """Each certificate's event counter (certificate_sequences)."""

    def copy(self) -> "State":
        return replace(
            self,
            workspaces=dict(self.workspaces),
            certificates=dict(self.certificates),
            products=dict(self.products),
            activity=list(self.activity),
            ledger=list(self.ledger),
            holds=dict(self.holds),
            documents=dict(self.documents),
            redemption_failures=list(self.redemption_failures),
            parked_payments=dict(self.parked_payments),
            inbox=dict(self.inbox),
            request_keys=dict(self.request_keys),
            outbox=list(self.outbox),
            sequences=dict(self.sequences),
        )

    def require_certificate(self, certificate_id: UUID, table: str) -> None:
        """The foreign key every row about a certificate has in PostgreSQL."""
        if certificate_id not in self.certificates:
            raise violation(f"{table}_certificate_id_fkey", f"no certificate {certificate_id}")


class Transaction:
    """A unit of work's view: its working copy while it is open. Repositories read `state` on every
    call, so they act on whichever copy is current."""

    def __init__(self) -> None:
        self._state: State | None = None

    @property
    def state(self) -> State:
        if self._state is None:
            raise RuntimeError("the unit of work is not open")
        return self._state

    @state.setter
    def state(self, value: State | None) -> None:
        self._state = value


class FakeStore:
    """The committed state, shared by every unit of work of one factory."""

    def __init__(self) -> None:
        self.state = State()

    @property
    def outbox(self) -> list[OutboxRecord]:
        return list(self.state.outbox)


def violation(constraint: str, detail: str) -> IntegrityError:
    """The error PostgreSQL's constraint would raise, so callers see the same exception type."""
    return IntegrityError(f"fake store: {constraint}", None, ValueError(f"{constraint}: {detail}"))
