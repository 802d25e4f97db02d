"""The request keys in memory (giftcert.store.request_keys): one fingerprint per (workspace,
operation, key); a key bound already stays as it is."""

from collections.abc import Collection
from datetime import datetime

from giftcert.messaging.request_keys import RequestKey
from tests.fakes.state import Transaction


class FakeRequestKeyRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def bind_all(self, keys: Collection[RequestKey], now: datetime) -> None:  # noqa: ARG002 - as the real one
        bound = self._tx.state.request_keys
        for key in keys:
            bound.setdefault((key.workspace_id, key.operation, key.key), key.fingerprint)
