"""The scheduler's third job: forget what is kept only for a while. Inbox keys and HTTP request keys
older than GIFTCERT_DEDUPE_DAYS, and unknown codes tried before the guessing window, are deleted in
batches of GIFTCERT_PRUNE_BATCH_SIZE, one transaction each (store/retention.py), every
GIFTCERT_PRUNE_INTERVAL_SECONDS. Every replica may prune: a batch skips the rows another holds."""

import asyncio
import logging
from datetime import timedelta

from giftcert.store.retention import TABLES, prune_batch
from giftcert_services.runtime.bootstrap import Dependencies

log = logging.getLogger("giftcert.scheduler")


class RetentionPruner:
    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps
        settings = deps.settings
        self.kept = {
            "inbox": timedelta(days=settings.dedupe_days),
            "request_keys": timedelta(days=settings.dedupe_days),
            "redemption_failures": timedelta(seconds=settings.redeem_failure_window_seconds),
        }

    async def prune(self) -> dict[str, int]:
        """Every table pruned of its old rows, batch after batch; how many rows each lost."""
        now = self._deps.clock.now()
        size = self._deps.settings.prune_batch_size
        pruned = dict.fromkeys(TABLES, 0)
        for table in TABLES:
            while True:
                async with self._deps.engine.begin() as connection:
                    count = await prune_batch(connection, table, now - self.kept[table], size)
                pruned[table] += count
                if count < size:
                    break
        if any(pruned.values()):
            log.info("pruned %s", ", ".join(f"{count} {table} row(s)" for table, count in pruned.items()))
        return pruned

    async def run(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("pruning old keys failed; trying again")
            await asyncio.sleep(self._deps.settings.prune_interval_seconds)
