"""What the service forgets, and when (contract v2, "Idempotency keys are kept at least
GIFTCERT_DEDUPE_DAYS"): inbox keys and HTTP request keys first seen before a cutoff, and unknown
codes tried before the guessing window began. Each call deletes at most `limit` rows of one table
(through its time index, oldest first, skipping rows another transaction holds), so a prune never
holds many locks for long; the caller repeats it until a call comes back short.

A repeated `payment-completed` does not depend on its inbox key: it is recognised by the payment_id
the certificate keeps for ever (ledger/payment.py), so a pruned key never turns a late repeat into a
payment-rejected that refunds."""

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_PRUNE = {
    "inbox": text(
        "DELETE FROM inbox WHERE (consumer, workspace_id, key) IN (SELECT consumer, workspace_id, key FROM inbox"
        " WHERE handled_at < :before ORDER BY handled_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
    ),
    "request_keys": text(
        "DELETE FROM request_keys WHERE (workspace_id, operation, key) IN (SELECT workspace_id, operation, key"
        " FROM request_keys WHERE first_seen_at < :before ORDER BY first_seen_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
    ),
    "redemption_failures": text(
        "DELETE FROM redemption_failures WHERE id IN (SELECT id FROM redemption_failures"
        " WHERE failed_at <= :before ORDER BY failed_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
    ),
}
TABLES = tuple(_PRUNE)


async def prune_batch(connection: AsyncConnection, table: str, before: datetime, limit: int) -> int:
    """Deletes up to `limit` rows of `table` (one of TABLES) older than `before`; returns how many."""
    result = await connection.execute(_PRUNE[table], {"before": before, "limit": limit})
    return int(result.rowcount)
