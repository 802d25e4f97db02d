"""API keys in PostgreSQL: only the digest of each secret is stored (giftcert.domain.api_key)."""

from datetime import datetime

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.api_key import ApiKey, Scope, secret_digest
from giftcert.store.schema import api_keys


def _from_row(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        workspace_id=row["workspace_id"],
        scope=Scope(row["scope"]),
        label=row["label"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


class ApiKeyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, key: ApiKey, secret: str) -> None:
        await self._connection.execute(
            insert(api_keys).values(
                id=key.id,
                workspace_id=key.workspace_id,
                scope=key.scope.value,
                label=key.label,
                secret_sha256=secret_digest(secret),
                created_at=key.created_at,
                revoked_at=key.revoked_at,
            )
        )

    async def find_by_secret(self, secret: str) -> ApiKey | None:
        """The live key with this secret, or None (unknown or revoked)."""
        query = select(api_keys).where(
            api_keys.c.secret_sha256 == secret_digest(secret), api_keys.c.revoked_at.is_(None)
        )
        row = (await self._connection.execute(query)).mappings().first()
        return None if row is None else _from_row(row)

    async def of_workspace(self, workspace_id: str) -> list[ApiKey]:
        query = select(api_keys).where(api_keys.c.workspace_id == workspace_id).order_by(api_keys.c.created_at)
        return [_from_row(row) for row in (await self._connection.execute(query)).mappings()]

    async def revoke(self, workspace_id: str, key_id: object, now: datetime) -> bool:
        result = await self._connection.execute(
            update(api_keys)
            .where(api_keys.c.workspace_id == workspace_id, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)
