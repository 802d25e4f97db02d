"""One unit of work = one database transaction, opened at the edge and rolled back unless
committed. Repositories share the transaction's connection. `PostgresUnitOfWork` is the store's
`giftcert.ports.UnitOfWork` (mypy checks it wherever one is given for the other)."""

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from giftcert.store.activity import ActivityRepository
from giftcert.store.api_keys import ApiKeyRepository
from giftcert.store.bulk import Writes
from giftcert.store.certificates import CertificateRepository
from giftcert.store.documents import DocumentRepository
from giftcert.store.inbox import InboxRepository
from giftcert.store.ledger import LedgerRepository
from giftcert.store.outbox import OutboxWriter
from giftcert.store.parked_payments import ParkedPaymentRepository
from giftcert.store.products import ProductRepository
from giftcert.store.redemption_failures import RedemptionFailureRepository
from giftcert.store.workspaces import WorkspaceRepository


class PostgresUnitOfWork:
    certificates: CertificateRepository
    workspaces: WorkspaceRepository
    products: ProductRepository
    api_keys: ApiKeyRepository
    activity: ActivityRepository
    ledger: LedgerRepository
    documents: DocumentRepository
    redemption_failures: RedemptionFailureRepository
    parked_payments: ParkedPaymentRepository
    inbox: InboxRepository
    outbox: OutboxWriter

    def __init__(self, engine: AsyncEngine, *, event_source: str) -> None:
        self._engine = engine
        self._event_source = event_source
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._writes: Writes | None = None

    async def __aenter__(self) -> Self:
        self._connection = connection = await self._engine.connect()
        self._transaction = await connection.begin()
        self._writes = writes = Writes(connection)
        self.certificates = CertificateRepository(connection, writes)
        self.workspaces = WorkspaceRepository(connection)
        self.products = ProductRepository(connection)
        self.api_keys = ApiKeyRepository(connection)
        self.activity = ActivityRepository(connection, writes)
        self.ledger = LedgerRepository(connection, writes)
        self.documents = DocumentRepository(connection)
        self.redemption_failures = RedemptionFailureRepository(connection, writes)
        self.parked_payments = ParkedPaymentRepository(connection, writes)
        self.inbox = InboxRepository(connection, writes)
        self.outbox = OutboxWriter(connection, source=self._event_source, writes=writes)
        return self

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    def hold_writes(self) -> None:
        """From now until the commit, writes are held back and sent as one statement just before
        it (store/bulk.py, `Writes`): for a handler that reads nothing it wrote in the meantime and
        writes each row at most once (the redemption and payment batches save each certificate once)."""
        if self._writes is None:
            raise RuntimeError("the unit of work is not open")
        self._writes.hold()

    async def commit(self) -> None:
        if self._transaction is None or self._writes is None:
            raise RuntimeError("the unit of work is not open")
        await self._writes.flush()
        await self._transaction.commit()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                await self._transaction.rollback()
        finally:
            if self._connection is not None:
                await self._connection.close()
            self._connection = self._transaction = self._writes = None


class UnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine, *, event_source: str) -> None:
        self.engine = engine
        self._event_source = event_source

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self.engine, event_source=self._event_source)
