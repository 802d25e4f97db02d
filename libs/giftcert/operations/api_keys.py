"""Creating, listing, revoking and checking API keys. The secret is returned once, at creation."""

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from giftcert.domain.api_key import ApiKey, Scope, new_secret
from giftcert.store.unit_of_work import PostgresUnitOfWork


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key: ApiKey
    secret: str


async def create_api_key(
    uow: PostgresUnitOfWork, workspace_id: str, scope: Scope, label: str, now: datetime
) -> CreatedApiKey:
    key = ApiKey(id=uuid4(), workspace_id=workspace_id, scope=scope, label=label, created_at=now)
    secret = new_secret()
    async with uow:
        await uow.api_keys.add(key, secret)
        await uow.commit()
    return CreatedApiKey(key, secret)


async def authenticate(uow: PostgresUnitOfWork, secret: str) -> ApiKey | None:
    async with uow:
        return await uow.api_keys.find_by_secret(secret)
