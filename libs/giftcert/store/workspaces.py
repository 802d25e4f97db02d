"""Workspace settings. A workspace nobody has configured yet sells under the defaults."""

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from giftcert.domain.workspace import WorkspaceSettings
from giftcert.store.schema import workspaces


class WorkspaceRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, workspace_id: str) -> WorkspaceSettings | None:
        query = select(workspaces).where(workspaces.c.id == workspace_id)
        row = (await self._connection.execute(query)).mappings().first()
        if row is None:
            return None
        return WorkspaceSettings(
            workspace_id=row["id"],
            name=row["name"],
            portal_enabled=row["portal_enabled"],
            currency=row["currency"],
            min_minor=row["min_minor"],
            max_minor=row["max_minor"],
            expiry_days=row["expiry_days"],
            reminder_days=row["reminder_days"],
            send_activation_email=row["send_activation_email"],
            redemption_mode=row["redemption_mode"],
            hold_seconds_default=row["hold_seconds_default"],
            hold_seconds_max=row["hold_seconds_max"],
            refund_validity_days=row["refund_validity_days"],
            pending_days=row["pending_days"],
            locale=row["locale"],
            remaining_balance_email=row["remaining_balance_email"],
        )

    async def get_or_default(self, workspace_id: str) -> WorkspaceSettings:
        return await self.get(workspace_id) or WorkspaceSettings.defaults(workspace_id)

    async def put(self, settings: WorkspaceSettings, now: datetime, *, overwrite: bool = True) -> None:
        values = asdict(settings)
        values["id"] = values.pop("workspace_id")
        statement = insert(workspaces).values(**values, created_at=now, updated_at=now)
        values.pop("id")
        if overwrite:
            statement = statement.on_conflict_do_update(
                index_elements=[workspaces.c.id], set_={**values, "updated_at": now}
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=[workspaces.c.id])
        await self._connection.execute(statement)

    async def all_ids(self) -> list[str]:
        return list((await self._connection.execute(select(workspaces.c.id))).scalars())
