"""The mailer service: pdf-ready -> email with the PDF -> certificate-sent; certificate-expiring-soon
-> a reminder email; certificate-redeemed leaving a balance -> a remaining-balance email (where the
workspace asks for it)."""

from faststream.kafka import KafkaRouter

from giftcert.delivery.email import send_certificate_emails
from giftcert.delivery.remaining_balance import send_remaining_balance_email
from giftcert.delivery.reminder import send_expiry_reminder
from giftcert.mail.sender import SendEmail, smtp_sessions
from giftcert_contracts.outbound import CertificateExpiringSoon, CertificateRedeemed, PdfReady
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.batch_tracing import Traces
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.subscription import subscribe, subscribe_batch
from giftcert_services.runtime.tracing import traced_sending

SERVICE = "mailer"


def mailer_router(deps: Dependencies) -> KafkaRouter:
    router = KafkaRouter()
    settings = deps.settings
    send: SendEmail = smtp_sessions(settings).send
    if deps.tracer_provider is not None:
        send = traced_sending(send, deps.tracer_provider)

    @subscribe_batch(
        router, deps, SERVICE, Topic.PDF_READY, title="mailer: pdf-ready", model=PdfReady,
        max_records=settings.delivery_batch_size,
    )
    async def on_pdfs_ready(batch: list[PdfReady], traces: Traces) -> None:
        await send_certificate_emails(
            batch, deps.new_uow, deps.clock, send, mail_from=settings.mail_from, traces=traces
        )

    @subscribe(
        router, deps, SERVICE, Topic.CERTIFICATE_EXPIRING_SOON, title="mailer: certificate-expiring-soon"
    )
    async def on_certificate_expiring_soon(body: CertificateExpiringSoon) -> None:
        await send_expiry_reminder(body, deps.new_uow, deps.clock, send, mail_from=settings.mail_from)

    @subscribe(router, deps, SERVICE, Topic.CERTIFICATE_REDEEMED, title="mailer: certificate-redeemed")
    async def on_certificate_redeemed(body: CertificateRedeemed) -> None:
        await send_remaining_balance_email(body, deps.new_uow, deps.clock, send, mail_from=settings.mail_from)

    return router
