"""A workspace (tenant) and the settings its certificates are sold and kept under."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    workspace_id: str
    name: str
    portal_enabled: bool = False
    currency: str = "EUR"
    min_minor: int = 1000
    max_minor: int = 100000
    expiry_days: int = 365
    reminder_days: int = 30

    @classmethod
    def defaults(cls, workspace_id: str) -> "WorkspaceSettings":
        return cls(workspace_id=workspace_id, name=workspace_id)
