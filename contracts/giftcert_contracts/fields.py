"""Field types shared by inbound and outbound messages, with the limits the contract sets."""

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

_NO_CONTROL = r"^[^\x00-\x08\x0a-\x1f\x7f]*$"  # tab allowed; CR, LF and other controls are not
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"

WorkspaceId = Annotated[str, Field(min_length=1, max_length=64, pattern=_ONE_LINE)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=_ONE_LINE)]
Reason = Annotated[str, Field(min_length=1, max_length=500, pattern=_NO_CONTROL)]
Actor = Annotated[str, Field(min_length=1, max_length=200, pattern=_ONE_LINE)]
PersonalMessage = Annotated[str, Field(max_length=500)]
Segment = Annotated[str, Field(min_length=1, max_length=64, pattern=_ONE_LINE)]
ExternalId = Annotated[str, Field(min_length=1, max_length=128, pattern=_ONE_LINE)]
CodeLast4 = Annotated[str, Field(min_length=4, max_length=4)]
Detail = Annotated[str, Field(max_length=1000)]
Timestamp = AwareDatetime


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: Name
    email: EmailStr
