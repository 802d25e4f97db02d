"""API keys: a bearer secret per workspace and scope, shown once when made and kept only as a digest.

A key is 32 random bytes from the CSPRNG, so a plain SHA-256 digest is enough to store it (nobody
can search that space; a slow password hash would only slow every request). `admin` includes
every other scope: an operator's tools may do what the public portal and the booking platform do,
never the other way round. `booking` is the booking platform's: its holds, captures, releases,
redeems, refunds and balance inquiries; `portal` reaches the public portal's routes and the balance
inquiry (contract v2)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

PREFIX = "gck_"


class Scope(StrEnum):
    PORTAL = "portal"
    ADMIN = "admin"
    BOOKING = "booking"

    def allows(self, required: "Scope") -> bool:
        return self is Scope.ADMIN or self is required


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    workspace_id: str
    scope: Scope
    label: str
    created_at: datetime
    revoked_at: datetime | None = None


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
