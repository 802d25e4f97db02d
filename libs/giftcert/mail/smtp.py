"""Sends email over SMTP. A server that cannot be reached or answers 4xx is `MailServerUnavailable`
(transient: the caller retries with backoff); a 5xx refusal is `MailRejected` (permanent), and so
is an email to an internationalised address when the server does not take them (no SMTPUTF8)."""

import asyncio
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import aiosmtplib

from giftcert.mail.outgoing import OutgoingEmail

TEMPORARY_FAILURE = 400
PERMANENT_FAILURE = 500


class MailServerUnavailable(Exception):  # noqa: N818 - a condition, not an error of ours
    pass


class MailRejected(Exception):  # noqa: N818
    pass


def _classify(code: int, text: str) -> Exception:
    if code >= PERMANENT_FAILURE:
        return MailRejected(f"{code} {text}")
    return MailServerUnavailable(f"{code} {text}")


SmtpSecurity = Literal["none", "starttls", "tls"]


async def send_email(
    message: OutgoingEmail, *, host: str, port: int, timeout: float = 30.0, security: SmtpSecurity = "none",
    username: str | None = None, password: str | None = None,
) -> None:
    """`security`: "none" (plain, as a local sink or Mailpit speak), "starttls" (upgrade a plain
    connection, usually port 587) or "tls" (TLS from the start, usually port 465)."""
    with _classified(message):
        await aiosmtplib.send(
            message.data, sender=message.sender, recipients=message.recipients, mail_options=_mail_options(message),
            hostname=host, port=port, timeout=timeout, use_tls=security == "tls", start_tls=security == "starttls",
            username=username, password=password,
        )


def _mail_options(message: OutgoingEmail) -> list[str]:
    return ["SMTPUTF8"] if message.smtputf8 else []


@contextmanager
def _classified(message: OutgoingEmail | None = None) -> Iterator[None]:
    """aiosmtplib's errors as ours: MailServerUnavailable (retry) or MailRejected (give up)."""
    try:
        yield
    except aiosmtplib.SMTPNotSupported as error:
        if message is not None and message.smtputf8:  # this server will never take this address
            raise MailRejected(f"the mail server takes no internationalised address: {error}") from error
        raise MailServerUnavailable(str(error)) from error
    except aiosmtplib.SMTPRecipientsRefused as error:
        (code, text), *_ = [(r.code, r.message) for r in error.recipients] or [(550, str(error))]
        raise _classify(code, text) from error
    except aiosmtplib.SMTPResponseException as error:
        raise _classify(error.code, error.message) from error
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise MailServerUnavailable(str(error)) from error


class SmtpSession:
    """One connection to the mail server, opened for the first email and kept for the next ones
    (the mailer sends many in a row). An email that fails on a kept connection the server has
    dropped meanwhile is tried once more on a new one; other failures close it and are raised as
    `MailServerUnavailable` or `MailRejected`."""

    def __init__(
        self, *, host: str, port: int, timeout: float = 30.0, security: SmtpSecurity = "none",
        username: str | None = None, password: str | None = None,
    ) -> None:
        self._options = {
            "hostname": host, "port": port, "timeout": timeout, "use_tls": security == "tls",
            "start_tls": security == "starttls", "username": username, "password": password,
        }
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def send(self, message: OutgoingEmail) -> None:
        async with self._lock:
            kept = self._client is not None
            try:
                await self._send(message)
            except aiosmtplib.SMTPServerDisconnected:
                await self.close()
                if not kept:
                    raise MailServerUnavailable("the mail server closed the connection") from None
                with _classified(message):
                    await self._send(message)
            except BaseException:
                await self.close()
                raise

    async def _send(self, message: OutgoingEmail) -> None:
        if self._client is None or not self._client.is_connected:
            client = aiosmtplib.SMTP(**self._options)  # type: ignore[arg-type]
            with _classified():
                await client.connect()
            self._client = client
        try:
            await self._client.sendmail(
                message.sender, message.recipients, message.data, mail_options=_mail_options(message)
            )
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except Exception:
            with _classified(message):
                raise

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(Exception):
                await client.quit()


class SmtpSessions:
    """A few `SmtpSession`s side by side: emails given at the same time go out in parallel, each on
    a connection of its own, so the round trips of one hide behind those of another."""

    def __init__(self, count: int, **options: Any) -> None:
        self._idle: asyncio.Queue[SmtpSession] = asyncio.Queue()
        for _ in range(count):
            self._idle.put_nowait(SmtpSession(**options))

    async def send(self, message: OutgoingEmail) -> None:
        session = await self._idle.get()
        try:
            await session.send(message)
        finally:
            self._idle.put_nowait(session)
