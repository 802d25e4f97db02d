"""The mailer service: pdf-ready -> email with the PDF -> certificate-sent."""

from email.message import EmailMessage
from functools import partial

from faststream.kafka import KafkaRouter

from giftcert.delivery.email import send_certificate_email
from giftcert.mail.smtp import send_email
from giftcert_contracts.outbound import PdfReady
from giftcert_contracts.topics import Topic
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.subscription import subscribe

SERVICE = "mailer"


def mailer_router(deps: Dependencies) -> KafkaRouter:
    router = KafkaRouter()
    settings = deps.settings

    async def send(message: EmailMessage) -> None:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        await send_email(
            message, host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
            username=settings.smtp_username, password=password,
        )

    deliver = partial(send_certificate_email, send=send, mail_from=settings.mail_from)

    @subscribe(router, settings, SERVICE, Topic.PDF_READY, title="mailer: pdf-ready")
    async def on_pdf_ready(body: PdfReady) -> None:
        await deliver(body, deps.new_uow, deps.clock)

    return router
