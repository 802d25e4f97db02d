"""Figure 8: cost as the store grows. The same measurements with 10,000 and with 1,000,000
certificates in one workspace (redeem latency at a modest steady load; searches by purchaser email
and by code as operators run them, through `search_certificates`), then one expiry tick that expires
100,000 of the million while redemptions go on."""

import asyncio
import json
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Self
from uuid import uuid4

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

from bench.load import Sender, percentile
from bench.redemption import Latency, steady_load, warm_up
from bench.seeding import Seeded, seed_certificates
from bench.stack import Scenario
from giftcert.operations.search import CertificateSearch, search_certificates
from giftcert_contracts.topics import Topic

WORKSPACE = "bench-growth"
REDEEM_RATE = 200.0
REDEEM_SECONDS = 15.0
QUIET_SECONDS = 30.0
SEARCHES = 1000
SEARCH_ROUNDS = 5
SERVICES = ("ledger", "expiry", "relay")
TICK_TIMEOUT_SECONDS = 1500
TICK_POLL_SECONDS = 0.1
TICK_NOT_OVER = """
    SELECT EXISTS (SELECT 1 FROM certificates WHERE workspace_id = $1 AND status = 'active' AND expires_at <= $2)
        OR EXISTS (SELECT 1 FROM outbox WHERE topic = $3)
"""
EXPIRED = "SELECT count(*) FROM certificates WHERE workspace_id = $1 AND status = 'expired'"


@dataclass
class Searches:
    p99_ms: float
    """The median of the rounds' p99s. One round's p99 is its tenth slowest search of 1,000, and
    bursts of a few milliseconds on this shared host moved it by up to 2.5x from one round to the
    next (1.2 to 3.1 ms at 1,000,000, 3.6 to 6.0 ms at 10,000, one run of 2026-12-03) while the
    rounds' p50s stayed between 0.4 and 0.8 ms at either size."""
    rounds_p99_ms: list[float]
    rounds_p50_ms: list[float]


@dataclass
class AtSize:
    certificates: int
    redeem: Latency
    search_by_email: Searches
    search_by_code: Searches


@dataclass
class Tick:
    expired: int
    seconds: float
    redeem_during: Latency
    redeem_before: Latency
    """The same load for `QUIET_SECONDS` just before the tick: what the tick is compared with."""


async def _searches(scenario: Scenario, searches: list[CertificateSearch]) -> Searches:
    """`SEARCH_ROUNDS` rounds of the searches, each in an order of its own."""
    engine = create_async_engine(scenario.settings.database_url)
    rounds: list[list[float]] = []
    try:
        async with engine.connect() as connection:
            for search in searches[:20]:  # warm
                await search_certificates(connection, search)
            for n in range(SEARCH_ROUNDS):
                times = []
                for search in random.Random(n).sample(searches, len(searches)):
                    started = time.perf_counter()
                    page = await search_certificates(connection, search)
                    times.append((time.perf_counter() - started) * 1000)
                    if not page.certificates:
                        raise AssertionError(f"the search found nothing: {search}")
                rounds.append(times)
    finally:
        await engine.dispose()
    p99s = [percentile(times, 0.99) for times in rounds]
    return Searches(statistics.median(p99s), p99s, [percentile(times, 0.5) for times in rounds])


class Growth:
    """One workspace that grows from 10,000 to 1,000,000 certificates; the ledger, the expiry worker
    and the relay run all along, each a process of its own."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.replies = scenario.replies()
        self.sender = Sender.to(scenario.settings, Topic.BOOKING_REDEEM_REQUEST)
        self.unused: list[str] = []
        self.searchable: list[tuple[str, str]] = []
        self.size = 0

    async def __aenter__(self) -> Self:
        await self.replies.start()
        await self.sender.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sender.stop()
        await self.replies.stop()

    async def add(self, count: int, *, expires_in: timedelta = timedelta(days=365), used: bool = True) -> Seeded:
        """`used`: their codes may be redeemed and searched for."""
        seeded = await seed_certificates(
            self.scenario.database_dsn, WORKSPACE, count, seed=100 + self.size, expires_in=expires_in,
        )
        self.size += count
        if used:
            self.unused.extend(seeded.codes)
            self.searchable.extend(zip(seeded.emails, seeded.codes, strict=True))
        return seeded

    def _codes(self, count: int) -> list[str]:
        taken, self.unused = self.unused[:count], self.unused[count:]
        return taken

    async def measure(self) -> AtSize:
        if not self.scenario.workers:
            self.scenario.start(SERVICES)
            await warm_up(self.replies, self.sender, self._codes(500), WORKSPACE)
        redeem = await steady_load(
            self.replies, self.sender, self._codes(int(REDEEM_RATE * REDEEM_SECONDS)), REDEEM_RATE, WORKSPACE
        )
        sample = random.Random(self.size).sample(self.searchable, SEARCHES)
        by_email = [CertificateSearch(WORKSPACE, purchaser_email=email) for email, _ in sample]
        by_code = [CertificateSearch(WORKSPACE, code=code.lower()) for _, code in sample]
        by_email_searched = await _searches(self.scenario, by_email)
        return AtSize(self.size, redeem, by_email_searched, await _searches(self.scenario, by_code))

    async def tick(self, expiring: int) -> Tick:
        """Redeems at a steady load for `QUIET_SECONDS` with no tick (the figure to compare with: on
        Tansu, redemptions slow as the topics' history grows, tick or not). Then sends one expiry
        tick (its `now` a little ahead, so the `expiring` certificates seeded to expire just then
        are past it) and redeems at the same load until the tick is over: no certificate left
        active past that `now`, and no `certificate-expired` event left in the outbox. The check
        asks PostgreSQL (two index probes every `TICK_POLL_SECONDS`), not the topic: consuming and
        decoding 100,000 events in this process would hold up the event loop that timestamps the
        replies, and inflate the very p99 it measures."""
        before = await steady_load(
            self.replies, self.sender, self._codes(int(REDEEM_RATE * QUIET_SECONDS)), REDEEM_RATE, WORKSPACE
        )
        ticks = Sender.to(self.scenario.settings, Topic.EXPIRY_TICK)
        await ticks.start()
        connection = await asyncpg.connect(self.scenario.database_dsn)
        try:
            now = datetime.now(UTC) + timedelta(hours=2)
            body = {"workspace_id": WORKSPACE, "tick_id": str(uuid4()), "now": now.isoformat()}
            started = time.perf_counter()
            await ticks.send_all([(body["tick_id"], json.dumps(body).encode())])
            load = asyncio.create_task(
                steady_load(self.replies, self.sender, self._codes(int(REDEEM_RATE * 600)), REDEEM_RATE, WORKSPACE)
            )
            while await connection.fetchval(TICK_NOT_OVER, WORKSPACE, now, Topic.CERTIFICATE_EXPIRED.value):
                await asyncio.sleep(TICK_POLL_SECONDS)
                if time.perf_counter() - started > TICK_TIMEOUT_SECONDS:
                    raise TimeoutError(f"the tick is not over after {TICK_TIMEOUT_SECONDS}s")
            seconds = time.perf_counter() - started
            expired = await connection.fetchval(EXPIRED, WORKSPACE)
            if expired != expiring:
                raise AssertionError(f"{expired} certificates expired, {expiring} expected")
            await asyncio.sleep(2.0)  # the replies to the last requests of the window
            load.cancel()
        finally:
            await connection.close()
            await ticks.stop()
        during = [
            (sent, (self.replies.arrived[k] - sent) * 1000)
            for k, sent in self.sender.sent_at.items()
            if started <= sent <= started + seconds and k in self.replies.arrived
        ]
        return Tick(expired, seconds, Latency.of(during, REDEEM_RATE, {}), before)
