"""Figure 6: activation, from payment-completed to certificate-sent (the PDF drawn with reportlab's
canvas and segno and stored, the email composed as an `EmailMessage` and accepted by a local SMTP
sink), for certificates made pending beforehand. The workers are warm before the clock starts:
their fonts registered at startup (giftcert_services.runtime.heap) and a first round of `WARM_UP`
payments gone all the way through (connections open, statements prepared, groups assigned)."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.load import Sender
from bench.seeding import AMOUNT_MINOR, seed_certificates
from bench.stack import Scenario
from giftcert.domain.money import Amount
from giftcert.rendering.certificate_pdf import CertificateDocument, render_certificate_pdf
from giftcert_contracts.topics import Topic

WORKSPACE = "bench-activate"
SERVICES = ("ledger", "relay", "documents", "mailer")
WARM_UP = 100


@dataclass
class Activation:
    certificates_per_second: float
    pdf_ready_per_second: float
    count: int
    peak_rss_mb: dict[str, float]
    cpu_ms_per_certificate: dict[str, float]
    """Each process's CPU time over the timed payments, divided by their number: where the time goes
    (the documents worker draws the PDFs, the mailer composes and sends the emails)."""


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
    seeded = await seed_certificates(scenario.database_dsn, WORKSPACE, count + WARM_UP, status="pending", seed=6)
    workers = scenario.start(SERVICES)
    settings = scenario.settings
    sent, pdfs = (
        scenario.replies((topic,), key="certificate_id", rate=True)
        for topic in (Topic.CERTIFICATE_SENT, Topic.PDF_READY)
    )
    await sent.start()
    await pdfs.start()
    payments = Sender.to(settings, Topic.PAYMENT_COMPLETED)
    await payments.start()
    try:
        warm = [_payment(str(certificate_id)) for certificate_id in seeded.ids[count:]]
        await payments.send_all(warm)
        await sent.wait_for([key for key, _ in warm], timeout=300)
        pdfs.arrived.clear()
        messages = [_payment(str(certificate_id)) for certificate_id in seeded.ids[:count]]
        cpu_before = scenario.cpu_seconds()
        started = time.perf_counter()
        await payments.send_all(messages)
        await sent.wait_for([key for key, _ in messages], timeout=1800)
        finished = max(sent.arrived[key] for key, _ in messages)
        ready = sorted(pdfs.arrived.values())
        cpu_after = scenario.cpu_seconds()
    finally:
        await payments.stop()
        await sent.stop()
        await pdfs.stop()
    return Activation(
        count / (finished - started),
        (len(ready) - 1) / (ready[-1] - ready[0]) if len(ready) > 1 else float("nan"),
        count,
        {w.service: w.peak_rss_mb for w in workers},
        per_certificate_ms(cpu_before, cpu_after, count),
    )


def per_certificate_ms(before: dict[str, float], after: dict[str, float], count: int) -> dict[str, float]:
    """Each process's CPU milliseconds per certificate between two readings, and their sum ("all")."""
    each = {name: round((after[name] - before.get(name, 0.0)) * 1000 / count, 3) for name in after}
    return each | {"all": round(sum(each.values()), 3)}
