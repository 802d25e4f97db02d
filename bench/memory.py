"""Figure 7: peak RSS of each worker while a backlog drains. The backlog is on the topics before the
workers start, so each takes as much as it is allowed to at once: consumption must stay bounded.

The ledger and the relay drain 100,000 redeem requests to the end. The documents and mailer workers
draw and send a PDF per message, too slow to drain 100,000 in a benchmark: they get the same backlog
of certificate-activated events and are measured over their first minutes of it."""

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from bench.load import Sender, redeem_request
from bench.seeding import AMOUNT_MINOR, seed_certificates
from bench.stack import Scenario
from giftcert_contracts.topics import Topic

WORKSPACE = "bench-memory"


@dataclass
class Backlog:
    messages: int
    drained: int
    seconds: float
    peak_rss_mb: dict[str, float]


async def redemption_backlog(scenario: Scenario, count: int) -> Backlog:
    seeded = await seed_certificates(scenario.database_dsn, WORKSPACE, count, seed=7)
    requests = [redeem_request(WORKSPACE, code) for code in seeded.codes]
    replies = scenario.replies(rate=True)
    await replies.start()
    sender = Sender.to(scenario.settings, Topic.BOOKING_REDEEM_REQUEST)
    await sender.start()
    try:
        await sender.send_all(requests)
        started = time.perf_counter()
        workers = scenario.start(("ledger", "relay"))
        await replies.wait_for([r for r, _ in requests], timeout=1800)
        seconds = time.perf_counter() - started
        peaks = {w.service: w.peak_rss_mb for w in workers}
    finally:
        await sender.stop()
        await replies.stop()
    return Backlog(count, count, seconds, peaks)


def _activated(certificate_id: str, code: str) -> tuple[str, bytes]:
    now = datetime.now(UTC)
    body = {
        "workspace_id": WORKSPACE, "event_id": str(uuid4()), "occurred_at": now.isoformat(),
        "certificate_id": certificate_id, "code_last4": code[-4:],
        "amount": {"minor": AMOUNT_MINOR, "currency": "EUR"}, "activated_at": now.isoformat(),
        "expires_at": (now + timedelta(days=365)).isoformat(), "channel": "portal",
        "payment_id": f"pay-{certificate_id}",
    }
    return certificate_id, json.dumps(body).encode()


async def delivery_backlog(scenario: Scenario, count: int, seconds: float) -> Backlog:
    seeded = await seed_certificates(scenario.database_dsn, WORKSPACE, count, seed=8)
    sent = scenario.replies((Topic.CERTIFICATE_SENT,), key="certificate_id", rate=True)
    await sent.start()
    sender = Sender.to(scenario.settings, Topic.CERTIFICATE_ACTIVATED)
    await sender.start()
    try:
        await sender.send_all([_activated(str(i), c) for i, c in zip(seeded.ids, seeded.codes, strict=True)])
        workers = scenario.start(("documents", "relay", "mailer"))
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        peaks = {w.service: w.peak_rss_mb for w in workers}
        elapsed = time.perf_counter() - started
    finally:
        await sender.stop()
        await sent.stop()
    return Backlog(count, len(sent.arrived), elapsed, peaks)
