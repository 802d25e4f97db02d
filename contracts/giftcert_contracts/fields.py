"""Field types shared by inbound and outbound messages, with the limits the contract sets."""

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

# C0 and C1 controls and Unicode's own line and paragraph separators (which email headers and
# many renderers treat as line breaks); `_NO_CONTROL` allows the tab.
_NO_CONTROL = r"^[^\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]*$"
_ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"  # text of several lines: tab, CR and LF allowed
_RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc_3339_text(value: object) -> object:
    """Times arrive as RFC 3339 text with an offset, never as numbers: pydantic alone would read
    1763892000 as a Unix time, and guess seconds or milliseconds by its size."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC_3339.match(value)):
        return value
    raise ValueError("a time is RFC 3339 text with an offset, like 2026-11-23T10:00:00Z")


WorkspaceId = Annotated[str, Field(min_length=1, max_length=64, pattern=_ONE_LINE)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=_ONE_LINE)]
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=_NO_CONTROL)]
Actor = Annotated[str, Field(min_length=1, max_length=200, pattern=_ONE_LINE)]
PersonalMessage = Annotated[str, Field(max_length=500, pattern=_LINES)]
Segment = Annotated[str, Field(min_length=1, max_length=64, pattern=_ONE_LINE)]
ExternalId = Annotated[str, Field(min_length=1, max_length=128, pattern=_ONE_LINE)]
LocaleTag = Annotated[str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
"""BCP 47 (`de`, `de-AT`, `zh-Hant-TW`): a language and optional script, region and variants."""
CodeLast4 = Annotated[str, Field(min_length=4, max_length=4)]
Detail = Annotated[str, Field(max_length=1000)]
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _plausible_moment(value: datetime) -> datetime:
    """Far enough from the ends of the calendar that adding a certificate's life (up to ten years)
    or reading it in UTC never leaves the range of dates Python and PostgreSQL can hold."""
    if not EARLIEST <= value < LATEST:
        raise ValueError("a time is between 1970-01-01 and 9000-01-01 (UTC)")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc_3339_text), AfterValidator(_plausible_moment)]


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: Name
    email: EmailStr
