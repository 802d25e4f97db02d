"""In-memory fakes of the store and the inbox/outbox, for handler tests that need no PostgreSQL.

`FakeUnitOfWork` is a `giftcert.ports.UnitOfWork` (mypy checks it, tests/handlers/conftest.py); the contract suite in
tests/handlers runs the same tests against it and against the real store."""

from tests.fakes.clock import FixedClock
from tests.fakes.state import FakeStore, OutboxRecord
from tests.fakes.unit_of_work import FakeUnitOfWork, FakeUnitOfWorkFactory

__all__ = ["FakeStore", "FakeUnitOfWork", "FakeUnitOfWorkFactory", "FixedClock", "OutboxRecord"]
