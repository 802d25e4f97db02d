"""Sends email over SMTP. A server that cannot be reached or answers 4xx is `MailServerUnavailable`
(transient: the caller retries with backoff); a 5xx refusal is `MailRejected` (permanent)."""

from email.message import EmailMessage
from typing import Literal

import aiosmtplib

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
    message: EmailMessage, *, host: str, port: int, timeout: float = 30.0, security: SmtpSecurity = "none",
    username: str | None = None, password: str | None = None,
) -> None:
    """`security`: "none" (plain, as a local sink or Mailpit speak), "starttls" (upgrade a plain
    connection, usually port 587) or "tls" (TLS from the start, usually port 465)."""
    try:
        await aiosmtplib.send(
            message, hostname=host, port=port, timeout=timeout, use_tls=security == "tls",
            start_tls=security == "starttls", username=username, password=password,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        (code, text), *_ = [(r.code, r.message) for r in error.recipients] or [(550, str(error))]
        raise _classify(code, text) from error
    except aiosmtplib.SMTPResponseException as error:
        raise _classify(error.code, error.message) from error
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise MailServerUnavailable(str(error)) from error
