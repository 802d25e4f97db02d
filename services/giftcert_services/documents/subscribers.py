"""The documents service: certificate-activated -> PDF -> pdf-ready."""

from faststream.kafka import KafkaRouter

from giftcert.delivery.pdf import NO_SPANS, store_certificate_pdf
from giftcert_contracts.outbound import CertificateActivated
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.subscription import subscribe
from giftcert_services.runtime.tracing import TRACER_NAME

SERVICE = "documents"


def documents_router(deps: Dependencies) -> KafkaRouter:
    router = KafkaRouter()
    tracer = NO_SPANS if deps.tracer_provider is None else deps.tracer_provider.get_tracer(TRACER_NAME)

    @subscribe(router, deps, SERVICE, Topic.CERTIFICATE_ACTIVATED, title="documents: certificate-activated")
    async def on_certificate_activated(body: CertificateActivated) -> None:
        await store_certificate_pdf(body, deps.new_uow, deps.clock, tracer=tracer)

    return router
