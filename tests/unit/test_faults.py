"""Which failures are retried (transient) and which dead-letter the message at once (poison)."""

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, RequestTimedOutError, UnknownTopicOrPartitionError
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from giftcert.mail.smtp import MailServerUnavailable
from giftcert_services.runtime.faults import PoisonMessageError, is_poison, is_transient


class _Body(BaseModel):
    amount: int


def _validation_error() -> ValidationError:
    try:
        _Body.model_validate({"amount": "many"})
    except ValidationError as error:
        return error
    raise AssertionError("no validation error")


def _with_cause(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "refused"),
        FileNotFoundError(2, "no such socket"),
        TimeoutError(),
        asyncpg.PostgresConnectionError("connection failure"),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle of the operation"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.InterfaceError("connection is closed"),
        OperationalError("SELECT 1", {}, ConnectionRefusedError()),
        DBAPIError("SELECT 1", {}, asyncpg.exceptions.AdminShutdownError("shutting down")),
        _with_cause(RuntimeError("wrapped"), ConnectionResetError()),
        KafkaConnectionError(),
        RequestTimedOutError(),
        UnknownTopicOrPartitionError(),  # retriable in aiokafka: the topic may be on its way
        MailServerUnavailable("no answer from the mail server"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_outage_of_the_database_broker_or_mail_server_is_retried(error: BaseException) -> None:
    assert is_transient(error)
    assert not is_poison(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        KeyError("missing"),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        DBAPIError("INSERT", {}, asyncpg.exceptions.CheckViolationError("check")),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_failure_of_the_code_or_the_data_is_not_retried_forever(error: BaseException) -> None:
    assert not is_transient(error)


def test_a_message_that_fails_validation_or_is_declared_poison_is_dead_lettered_at_once() -> None:
    assert is_poison(_validation_error())
    assert is_poison(PoisonMessageError("cannot be handled"))
    assert not is_transient(_validation_error())
