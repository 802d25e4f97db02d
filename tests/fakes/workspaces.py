"""Workspace settings in memory (giftcert.store.workspaces)."""

from datetime import datetime

from giftcert.domain.workspace import WorkspaceSettings
from tests.fakes.state import Transaction


class FakeWorkspaceRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, workspace_id: str) -> WorkspaceSettings | None:
        row = self._tx.state.workspaces.get(workspace_id)
        return None if row is None else row[0]

    async def get_or_default(self, workspace_id: str) -> WorkspaceSettings:
        return await self.get(workspace_id) or WorkspaceSettings.defaults(workspace_id)

    async def put(self, settings: WorkspaceSettings, now: datetime, *, overwrite: bool = True) -> None:
        rows = self._tx.state.workspaces
        existing = rows.get(settings.workspace_id)
        if existing is None:
            rows[settings.workspace_id] = (settings, now, now)
        elif overwrite:
            rows[settings.workspace_id] = (settings, existing[1], now)

    async def all_ids(self) -> list[str]:
        return list(self._tx.state.workspaces)
