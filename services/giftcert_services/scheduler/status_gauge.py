"""`giftcert_certificates{workspace, status}`: the scheduler counts certificates by workspace and
status every GIFTCERT_STATUS_GAUGE_SECONDS with one GROUP BY, rather than every process keeping a
count in step with each transition (which would be wrong after every restart).

Every status of a workspace seen once has a series; a status no certificate has any more reads 0
rather than keeping its last count. Each scheduler replica counts (a read, cheap): take the max
across replicas."""

import asyncio
import logging

from giftcert.domain.certificate import Status
from giftcert.metrics import CERTIFICATES
from giftcert.store.reports import certificates_by_workspace_and_status
from giftcert_services.runtime.bootstrap import Dependencies

log = logging.getLogger("giftcert.scheduler")


class CertificateStatusGauge:
    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps
        self._workspaces: set[str] = set()

    async def refresh(self) -> None:
        async with self._deps.engine.connect() as connection:
            counts = await certificates_by_workspace_and_status(connection)
        self._workspaces |= {workspace for workspace, _ in counts}
        for workspace in self._workspaces:
            for status in Status:
                CERTIFICATES.labels(workspace=workspace, status=status.value).set(
                    counts.get((workspace, status.value), 0)
                )

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log.warning("counting certificates by status failed: %r", error)
            await asyncio.sleep(self._deps.settings.status_gauge_seconds)
