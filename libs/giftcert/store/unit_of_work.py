"""One unit of work = one database transaction, opened at the edge and rolled back unless
committed. Repositories share the transaction's connection. `PostgresUnitOfWork` is the store's
`giftcert.ports.UnitOfWork` (mypy checks it wherever one is given for the other)."""

from collections.abc import Callable
from functools import cached_property
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from giftcert.store.activity import ActivityRepository
from giftcert.store.api_keys import ApiKeyRepository
from giftcert.store.bulk import Writes
from giftcert.store.bulk_uploads import BulkUploadRepository
from giftcert.store.certificates import CertificateRepository
from giftcert.store.documents import DocumentRepository
from giftcert.store.holds import HoldRepository
from giftcert.store.inbox import InboxRepository
from giftcert.store.ledger import LedgerRepository
from giftcert.store.outbox import OutboxWriter
from giftcert.store.parked_payments import ParkedPaymentRepository
from giftcert.store.products import ProductRepository
from giftcert.store.redemption_failures import RedemptionFailureRepository
from giftcert.store.request_keys import RequestKeyRepository
from giftcert.store.workspaces import WorkspaceRepository


class PostgresUnitOfWork:
    def __init__(self, engine: AsyncEngine, *, event_source: str) -> None:
        self._engine = engine
        self._event_source = event_source
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._writes: Writes | None = None

    async def __aenter__(self) -> Self:
        self._forget_repositories()
        self._connection = connection = await self._engine.connect()
        self._transaction = await connection.begin()
        self._writes = Writes(connection)
        return self

    # Each repository is made on its first use in the unit of work (a redemption never makes the API
    # keys' or the documents' one) and serves every use until the unit of work ends.

    @cached_property
    def certificates(self) -> CertificateRepository:
        return CertificateRepository(self.connection, self.writes)

    @cached_property
    def workspaces(self) -> WorkspaceRepository:
        return WorkspaceRepository(self.connection)

    @cached_property
    def products(self) -> ProductRepository:
        return ProductRepository(self.connection)

    @cached_property
    def api_keys(self) -> ApiKeyRepository:
        return ApiKeyRepository(self.connection)

    @cached_property
    def bulk_uploads(self) -> BulkUploadRepository:
        """PostgreSQL only, like the API keys: the console's uploads, which no handler touches."""
        return BulkUploadRepository(self.connection)

    @cached_property
    def activity(self) -> ActivityRepository:
        return ActivityRepository(self.connection, self.writes)

    @cached_property
    def ledger(self) -> LedgerRepository:
        return LedgerRepository(self.connection, self.writes)

    @cached_property
    def holds(self) -> HoldRepository:
        return HoldRepository(self.connection, self.writes)

    @cached_property
    def documents(self) -> DocumentRepository:
        return DocumentRepository(self.connection)

    @cached_property
    def redemption_failures(self) -> RedemptionFailureRepository:
        return RedemptionFailureRepository(self.connection, self.writes)

    @cached_property
    def parked_payments(self) -> ParkedPaymentRepository:
        return ParkedPaymentRepository(self.connection, self.writes)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self.connection, self.writes)

    @cached_property
    def request_keys(self) -> RequestKeyRepository:
        return RequestKeyRepository(self.connection, self.writes)

    @cached_property
    def outbox(self) -> OutboxWriter:
        return OutboxWriter(self.connection, source=self._event_source, writes=self.writes)

    def _forget_repositories(self) -> None:
        for name in _REPOSITORIES:
            self.__dict__.pop(name, None)

    @property
    def writes(self) -> Writes:
        if self._writes is None:
            raise RuntimeError("the unit of work is not open")
        return self._writes

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
            self._forget_repositories()


_REPOSITORIES = [name for name, value in vars(PostgresUnitOfWork).items() if isinstance(value, cached_property)]


class UnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine, *, event_source: str) -> None:
        self.engine = engine
        self._event_source = event_source

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self.engine, event_source=self._event_source)


NewPostgresUnitOfWork = Callable[[], PostgresUnitOfWork]
"""For what only PostgreSQL does (request keys, API keys, reports on the connection)."""
