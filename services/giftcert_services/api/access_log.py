"""The API's access log (uvicorn's `uvicorn.access` lines) never holds a code, nor an email address.

No route takes a code in its URL (a search by code is a POST with the code in the body), but a
client may still send one there: this filter rewrites the request line before any handler formats
it. A query parameter keeps its value only when it is one of the harmless filters of SAFE_PARAMETERS
and does not read as a code; every other value (`code`, the email filters, anything unknown) is
replaced by `***`. A path segment that reads as a code, in any spelling, is replaced too."""

import logging
from urllib.parse import unquote, unquote_plus

from giftcert.domain.codes import normalize_code

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "***"
SAFE_PARAMETERS = frozenset({
    "status", "limit", "after", "from", "to", "within_days", "segment",
    "created_from", "created_to", "expires_from", "expires_to",
})
_PATH_ARGUMENT = 2
"""uvicorn's access line is `'%s - "%s %s HTTP/%s" %d'` of (client, method, path?query, version, status)."""


def _reads_as_code(text: str) -> bool:
    return normalize_code(text) is not None


def redacted_target(target: str) -> str:
    """The request target (path and query string) without codes or unknown query values."""
    path, mark, query = target.partition("?")
    segments = [REDACTED if _reads_as_code(unquote(segment)) else segment for segment in path.split("/")]
    if not mark:
        return "/".join(segments)
    pairs = []
    for pair in query.split("&"):  # raw, as the client sent it: nothing decoded reaches the line
        name, _, value = pair.partition("=")
        readable_name, readable_value = unquote_plus(name), unquote_plus(value)
        kept = readable_name.lower() in SAFE_PARAMETERS and not _reads_as_code(readable_value)
        shown_name = REDACTED if _reads_as_code(readable_name) else name
        pairs.append(f"{shown_name}={value if kept else REDACTED}")
    return "/".join(segments) + "?" + "&".join(pairs)


class RedactedAccessLog(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARGUMENT:
            target = args[_PATH_ARGUMENT]
            if isinstance(target, str):
                record.args = (*args[:_PATH_ARGUMENT], redacted_target(target), *args[_PATH_ARGUMENT + 1 :])
        return True


def redact_access_log() -> None:
    """Installs the filter on uvicorn's access logger (once, however many apps are built)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactedAccessLog) for existing in logger.filters):
        logger.addFilter(RedactedAccessLog())
