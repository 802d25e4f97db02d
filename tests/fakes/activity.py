"""The certificate activity log in memory (giftcert.store.activity): append-only, in insertion order."""

from uuid import UUID

from giftcert.store.activity import ActivityEntry
from tests.fakes.state import Transaction, as_stored


class FakeActivityRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, *entries: ActivityEntry) -> None:
        state = self._tx.state
        for entry in entries:
            state.require_certificate(entry.certificate_id, "certificate_activity")
        state.activity.extend(as_stored(entry) for entry in entries)

    async def of_certificate(self, certificate_id: UUID) -> list[ActivityEntry]:
        return [e for e in self._tx.state.activity if e.certificate_id == certificate_id]
