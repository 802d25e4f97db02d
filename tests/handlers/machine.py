"""What every stateful property test of the ledger's handlers shares (test_ledger_state_machine.py,
test_partial_redemption_state_machine.py): the handlers are async and Hypothesis's state machines are
not, so each machine owns a private event loop and runs every handler on it; on PostgreSQL it opens
its engine inside that loop and disposes of it at teardown. Each run works in a workspace of its own,
so runs never see each other's rows."""

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from giftcert.ports import NewUnitOfWork
from giftcert.store.unit_of_work import UnitOfWorkFactory
from tests.fakes import FakeUnitOfWorkFactory, FixedClock
from tests.handlers.conftest import EVENT_SOURCE, START

T = TypeVar("T")


@dataclass
class StepCounter:
    """How many commands the machines ran in one test: the reliability report's `injected`."""

    steps: int = 0


class HandlerMachine(RuleBasedStateMachine):
    """A machine on the fake store (`database_url` None; `fake` is its factory) or on PostgreSQL
    (`engine`), with a clock at START and a step counter."""

    def __init__(self, database_url: str | None, counter: StepCounter) -> None:
        super().__init__()
        self.counter = counter
        self.loop = asyncio.new_event_loop()
        self.engine: AsyncEngine | None = None
        self.fake: FakeUnitOfWorkFactory | None = None
        self.new_uow: NewUnitOfWork
        if database_url is None:
            self.fake = self.new_uow = FakeUnitOfWorkFactory(event_source=EVENT_SOURCE)
        else:
            self.engine = engine = self.run(self._open_engine(database_url))
            self.new_uow = UnitOfWorkFactory(engine, event_source=EVENT_SOURCE)
        self.clock = FixedClock(START)

    @staticmethod
    async def _open_engine(database_url: str) -> AsyncEngine:
        return create_async_engine(database_url)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            if self.engine is not None:
                self.run(self.engine.dispose())
            self.run(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


def run_machine(
    machine: Callable[[str | None, StepCounter], HandlerMachine],
    database_url: str | None,
    counter: StepCounter,
    run_settings: settings,
) -> None:
    run_state_machine_as_test(
        lambda: machine(database_url, counter),  # type: ignore[arg-type] # any factory will do (documented)
        settings=run_settings,
    )


def machine_settings(*, max_examples: int, step_count: int, **changes: Any) -> settings:
    return settings(
        max_examples=max_examples,
        stateful_step_count=step_count,
        deadline=None,
        database=None,  # nothing written into the working tree; a failure prints its steps
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        **changes,
    )
