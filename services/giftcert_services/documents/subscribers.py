"""The documents service: certificate-activated -> PDF -> pdf-ready."""

from faststream.kafka import KafkaRouter

from giftcert.delivery.pdf import store_certificate_pdf
from giftcert_contracts.outbound import CertificateActivated
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.subscription import subscribe

SERVICE = "documents"


def documents_router(deps: Dependencies) -> KafkaRouter:
    router = KafkaRouter()

    @subscribe(router, deps, SERVICE, Topic.CERTIFICATE_ACTIVATED, title="documents: certificate-activated")
    async def on_certificate_activated(body: CertificateActivated) -> None:
        await store_certificate_pdf(body, deps.new_uow, deps.clock)

    return router
