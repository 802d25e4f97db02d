"""An in-memory unit of work: a giftcert.ports.UnitOfWork, as giftcert.store.unit_of_work.PostgresUnitOfWork is.

Entering copies the committed state of its `FakeStore`; `commit()` swaps the copy in; leaving
without a commit (or through an exception) discards it, so a failed handler leaves nothing. As with
the real one, work done after the commit is discarded and a second commit raises.

There are no locks. A unit of work whose commit would overwrite another's, committed since it
began, fails with `ConcurrentCommitError` instead of losing that commit silently; PostgreSQL would
have made it wait instead. Handlers on this fake never interleave anyway (nothing in it suspends),
so concurrency itself is proven on the real store only."""

from types import TracebackType
from typing import Self

from sqlalchemy.exc import InvalidRequestError

from tests.fakes.activity import FakeActivityRepository
from tests.fakes.certificates import FakeCertificateRepository
from tests.fakes.documents import FakeDocumentRepository
from tests.fakes.holds import FakeHoldRepository
from tests.fakes.inbox import FakeInboxRepository
from tests.fakes.ledger import FakeLedgerRepository
from tests.fakes.outbox import FakeOutboxWriter
from tests.fakes.parked_payments import FakeParkedPaymentRepository
from tests.fakes.products import FakeProductRepository
from tests.fakes.redemption_failures import FakeRedemptionFailureRepository
from tests.fakes.request_keys import FakeRequestKeyRepository
from tests.fakes.state import FakeStore, State, Transaction
from tests.fakes.workspaces import FakeWorkspaceRepository


class ConcurrentCommitError(RuntimeError):
    pass


class FakeUnitOfWork:
    def __init__(self, store: FakeStore, *, event_source: str = "urn:test") -> None:
        self.store = store
        self._tx = Transaction()
        self._began_from: State | None = None
        self.certificates = FakeCertificateRepository(self._tx)
        self.workspaces = FakeWorkspaceRepository(self._tx)
        self.products = FakeProductRepository(self._tx)
        self.activity = FakeActivityRepository(self._tx)
        self.ledger = FakeLedgerRepository(self._tx)
        self.holds = FakeHoldRepository(self._tx)
        self.documents = FakeDocumentRepository(self._tx)
        self.redemption_failures = FakeRedemptionFailureRepository(self._tx)
        self.parked_payments = FakeParkedPaymentRepository(self._tx)
        self.inbox = FakeInboxRepository(self._tx)
        self.request_keys = FakeRequestKeyRepository(self._tx)
        self.outbox = FakeOutboxWriter(self._tx, source=event_source)

    async def __aenter__(self) -> Self:
        self._began_from = self.store.state
        self._tx.state = self._began_from.copy()
        return self

    def hold_writes(self) -> None:
        """Writes here are in memory: nothing to hold back."""

    async def commit(self) -> None:
        working = self._tx.state  # raises when the unit of work is not open
        if self._began_from is None:
            raise InvalidRequestError("This transaction is inactive")
        if self.store.state is not self._began_from:
            raise ConcurrentCommitError("another unit of work committed since this one began")
        self.store.state = working
        self._began_from = None
        self._tx.state = working.copy()  # what follows the commit is discarded on exit

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tx.state = self._began_from = None


class FakeUnitOfWorkFactory:
    """A giftcert.ports.NewUnitOfWork, like giftcert.store.unit_of_work.UnitOfWorkFactory: every unit
    of work it makes shares `store`."""

    def __init__(self, store: FakeStore | None = None, *, event_source: str = "urn:test") -> None:
        self.store = store or FakeStore()
        self._event_source = event_source

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store, event_source=self._event_source)
