"""Which failures are transient (retry with backoff, forever, never dead-letter) and which are the
message's own fault (dead-letter at once)."""

import asyncio

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from giftcert.mail.smtp import MailServerUnavailable

_TRANSIENT_PG_STATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
    "57P01", "57P02", "57P03",  # admin_shutdown, crash_shutdown, cannot_connect_now
    "53300",  # too_many_connections
}


class PoisonMessageError(Exception):
    """The message can never be handled as it is: it goes to its dead-letter topic."""


def is_poison(error: BaseException) -> bool:
    return isinstance(error, ValidationError | PoisonMessageError)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        return _is_transient_driver_error(error.orig)
    return _is_transient_driver_error(error)


def _is_transient_driver_error(error: BaseException | None) -> bool:
    if error is None:
        return False
    # SQLSTATE class 08 (connection exception), or a connection that is closed or gone
    if isinstance(error, asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
        return True
    if isinstance(error, asyncpg.PostgresError) and getattr(error, "sqlstate", None) in _TRANSIENT_PG_STATES:
        return True
    if isinstance(error, KafkaConnectionError | MailServerUnavailable):
        return True
    if isinstance(error, KafkaError):
        return bool(getattr(error, "retriable", False))
    cause = error.__cause__ or error.__context__
    return isinstance(error, OSError | ConnectionError | asyncio.TimeoutError) or (
        cause is not None and cause is not error and _is_transient_driver_error(cause)
    )
