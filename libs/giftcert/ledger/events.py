"""What every event the ledger writes gets anew: its workspace, a fresh event id, the time it occurred."""

from datetime import datetime
from uuid import uuid4


def new_event_fields(workspace_id: str, now: datetime) -> dict[str, object]:
    return {"workspace_id": workspace_id, "event_id": uuid4(), "occurred_at": now}
