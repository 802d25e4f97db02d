"""Decode each expiry-tick and call its handler; nothing else happens here."""

from faststream.kafka import KafkaRouter

from giftcert.ledger.expiry import check_expiries
from giftcert.pacing import Pacing
from giftcert_contracts.inbound import CheckExpiries
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.subscription import subscribe

SERVICE = "expiry"


def expiry_router(deps: Dependencies) -> KafkaRouter:
    router = KafkaRouter()
    settings, new_uow = deps.settings, deps.new_uow
    pacing = Pacing(settings.expiry_rate_per_second or None)

    @subscribe(router, deps, SERVICE, Topic.EXPIRY_TICK, title="expiry-tick")
    async def on_expiry_tick(body: CheckExpiries) -> None:
        await check_expiries(body, new_uow, batch_size=settings.expiry_batch_size, pacing=pacing)

    return router
