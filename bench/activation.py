"""Figure 6: activation, from payment-completed to certificate-sent (the PDF drawn and stored, the
email accepted by a local SMTP sink), for certificates made pending beforehand; and the
certificate PDF (QR code included) drawn alone, next to the text-only page of the limits."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.load import Replies, Sender
from bench.seeding import AMOUNT_MINOR, seed_certificates
from bench.stack import FETCH_MAX_WAIT_MS, Scenario
from giftcert.domain.money import Amount
from giftcert.rendering.certificate_pdf import CertificateDocument, render_certificate_pdf
from giftcert_contracts.topics import Topic

WORKSPACE = "bench-activate"
SERVICES = ("ledger", "relay", "documents", "mailer")


@dataclass
class Activation:
    certificates_per_second: float
    pdf_ready_per_second: float
    count: int
    peak_rss_mb: dict[str, float]


def sample_document() -> CertificateDocument:
    return CertificateDocument(
        workspace_name="Acme Tours", amount=Amount(AMOUNT_MINOR, "EUR"), recipient_name="Robin Recipient",
        purchaser_name="Pat Purchaser", message="Happy travels! Enjoy the trip to the mountains.",
        code="ABCDEFGHJKMN", expires_at=datetime.now(UTC) + timedelta(days=365),
    )


def render_certificate() -> bytes:
    return render_certificate_pdf(sample_document())


def _payment(certificate_id: str) -> tuple[str, bytes]:
    body = {
        "workspace_id": WORKSPACE, "payment_id": f"pay-{certificate_id}", "certificate_id": certificate_id,
        "amount": {"minor": AMOUNT_MINOR, "currency": "EUR"},
        "completed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return certificate_id, json.dumps(body).encode()


async def activation(scenario: Scenario, count: int) -> Activation:
    seeded = await seed_certificates(scenario.database_dsn, WORKSPACE, count, status="pending", seed=6)
    workers = scenario.start(SERVICES)
    settings = scenario.settings
    sent, pdfs = (
        Replies(settings, topics=(topic,), key="certificate_id", fetch_max_wait_ms=FETCH_MAX_WAIT_MS)
        for topic in (Topic.CERTIFICATE_SENT, Topic.PDF_READY)
    )
    await sent.start()
    await pdfs.start()
    payments = Sender.to(settings, Topic.PAYMENT_COMPLETED)
    await payments.start()
    try:
        messages = [_payment(str(certificate_id)) for certificate_id in seeded.ids]
        started = time.perf_counter()
        await payments.send_all(messages)
        await sent.wait_for([key for key, _ in messages], timeout=1800)
        finished = max(sent.arrived.values())
        ready = sorted(pdfs.arrived.values())
    finally:
        await payments.stop()
        await sent.stop()
        await pdfs.stop()
    return Activation(
        count / (finished - started),
        (len(ready) - 1) / (ready[-1] - ready[0]) if len(ready) > 1 else float("nan"),
        count,
        {w.service: w.peak_rss_mb for w in workers},
    )
