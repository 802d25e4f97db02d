"""The one way a process sends email: SMTP as the settings say. Handlers take a `SendEmail` rather
than SMTP settings, so the mailer, the HTTP API and the CLI send alike and tests can pass a fake."""

from collections.abc import Awaitable, Callable
from typing import Protocol

from pydantic import SecretStr

from giftcert.mail.outgoing import OutgoingEmail
from giftcert.mail.smtp import SmtpSecurity, SmtpSessions, send_email

SendEmail = Callable[[OutgoingEmail], Awaitable[None]]


class SmtpSettings(Protocol):
    """What sending needs of the settings (giftcert.settings.Settings has it): mail knows nothing above it."""

    @property
    def smtp_host(self) -> str: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_security(self) -> SmtpSecurity: ...
    @property
    def smtp_username(self) -> str | None: ...
    @property
    def smtp_password(self) -> SecretStr | None: ...
    @property
    def smtp_connections(self) -> int: ...


def smtp_sender(settings: SmtpSettings) -> SendEmail:
    """Sends to `smtp_host:smtp_port` with `smtp_security` and the login, if any. Raises what
    `send_email` raises: `MailServerUnavailable` (transient) or `MailRejected` (permanent)."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None

    async def send(message: OutgoingEmail) -> None:
        await send_email(
            message, host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
            username=settings.smtp_username, password=password,
        )

    return send


def smtp_sessions(settings: SmtpSettings) -> SmtpSessions:
    """For a process that sends email after email (the mailer): GIFTCERT_SMTP_CONNECTIONS
    connections, kept open, used side by side."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpSessions(
        settings.smtp_connections, host=settings.smtp_host, port=settings.smtp_port,
        security=settings.smtp_security, username=settings.smtp_username, password=password,
    )
