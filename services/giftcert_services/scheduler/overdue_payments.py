"""The scheduler's second job: settle payments that waited past `GIFTCERT_PAYMENT_GRACE_SECONDS`
for their purchase request (libs/giftcert/ledger/overdue_payments.py). Every replica may sweep:
rows are claimed with SKIP LOCKED, so no payment is settled twice."""

import asyncio
import logging
from datetime import timedelta

from giftcert.ledger.overdue_payments import settle_overdue_payments
from giftcert_services.runtime.bootstrap import Dependencies

log = logging.getLogger("giftcert.scheduler")
BATCH_SIZE = 500


class OverduePaymentSweeper:
    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps
        grace = deps.settings.payment_grace_seconds
        self.grace = timedelta(seconds=grace)
        self.interval = min(30.0, max(0.2, grace / 10))

    async def sweep(self) -> int:
        settled = await settle_overdue_payments(
            self._deps.new_uow(), self._deps.clock, grace=self.grace, batch_size=BATCH_SIZE
        )
        if settled:
            log.info("settled %s payment(s) whose purchase request did not come in time", settled)
        return settled

    async def run(self) -> None:
        while True:
            try:
                if await self.sweep() == BATCH_SIZE:
                    continue
            except Exception:
                log.exception("sweeping overdue payments failed; trying again")
            await asyncio.sleep(self.interval)
