"""The documents service: certificate-activated -> PDF -> pdf-ready."""

from faststream.kafka import KafkaRouter

from giftcert.delivery.pdf import NO_SPANS, store_certificate_pdfs
from giftcert_contracts.outbound import CertificateActivated
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.batch_tracing import Traces
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.subscription import subscribe_batch
from giftcert_services.runtime.tracing import TRACER_NAME

SERVICE = "documents"


def documents_router(deps: Dependencies) -> KafkaRouter:
    router = KafkaRouter()
    tracer = NO_SPANS if deps.tracer_provider is None else deps.tracer_provider.get_tracer(TRACER_NAME)

    @subscribe_batch(
        router, deps, SERVICE, Topic.CERTIFICATE_ACTIVATED, title="documents: certificate-activated",
        model=CertificateActivated, max_records=deps.settings.delivery_batch_size,
    )
    async def on_certificates_activated(batch: list[CertificateActivated], traces: Traces) -> None:
        await store_certificate_pdfs(batch, deps.new_uow, deps.clock, traces=traces, tracer=tracer)

    return router
