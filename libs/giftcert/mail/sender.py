"""The one way a process sends email: SMTP as the settings say. Handlers take a `SendEmail` rather
than SMTP settings, so the mailer, the HTTP API and the CLI send alike and tests can pass a fake."""

from collections.abc import Awaitable, Callable

from giftcert.mail.outgoing import OutgoingEmail
from giftcert.mail.smtp import SmtpSessions, send_email
from giftcert.settings import Settings

SendEmail = Callable[[OutgoingEmail], Awaitable[None]]


def smtp_sender(settings: Settings) -> SendEmail:
    """Sends to `smtp_host:smtp_port` with `smtp_security` and the login, if any. Raises what
    `send_email` raises: `MailServerUnavailable` (transient) or `MailRejected` (permanent)."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None

    async def send(message: OutgoingEmail) -> None:
        await send_email(
            message, host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
            username=settings.smtp_username, password=password,
        )

    return send


def smtp_sessions(settings: Settings) -> SmtpSessions:
    """For a process that sends email after email (the mailer): GIFTCERT_SMTP_CONNECTIONS
    connections, kept open, used side by side."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpSessions(
        settings.smtp_connections, host=settings.smtp_host, port=settings.smtp_port,
        security=settings.smtp_security, username=settings.smtp_username, password=password,
    )
