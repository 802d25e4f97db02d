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
    send_activation_email: bool = True
    """Whether activation emails the certificate to its recipient (else operators send it)."""
    locale: str = "en"
    """BCP 47: the language and formats of the PDFs and emails of a purchase that names none."""

    def __post_init__(self) -> None:
        if not 0 < self.min_minor <= self.max_minor:
            raise ValueError(
                f"the smallest amount ({self.min_minor}) must be positive and at most the largest ({self.max_minor})"
            )
        if self.expiry_days < 1 or self.reminder_days < 0:
            raise ValueError("certificates last at least a day, and reminders come 0 or more days before expiry")

    @classmethod
    def defaults(cls, workspace_id: str) -> "WorkspaceSettings":
        return cls(workspace_id=workspace_id, name=workspace_id)
