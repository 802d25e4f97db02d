"""Sends email over SMTP. A server that cannot be reached or answers 4xx is `MailServerUnavailable`
(transient: the caller retries with backoff); a 5xx refusal is `MailRejected` (permanent)."""

from email.message import EmailMessage

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


async def send_email(
    message: EmailMessage, *, host: str, port: int, timeout: float = 30.0, use_tls: bool = False,
    username: str | None = None, password: str | None = None,
) -> None:
    try:
        await aiosmtplib.send(
            message, hostname=host, port=port, timeout=timeout, use_tls=use_tls,
            start_tls=False if not use_tls else None, username=username, password=password,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        (code, text), *_ = [(r.code, r.message) for r in error.recipients] or [(550, str(error))]
        raise _classify(code, text) from error
    except aiosmtplib.SMTPResponseException as error:
        raise _classify(error.code, error.message) from error
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise MailServerUnavailable(str(error)) from error
