"""Figures 4 and 5: redemption throughput (as fast as possible) and latency (at a steady load).
Certificates are made active beforehand, straight into the store; the ledger and the relay run as
`giftcert run` processes. At full speed two ledger processes share the redeem topic's four
partitions, as a deployment scales out for a sale (one process alone waits for a round trip to the
database or the broker a third of the time); at the steady load one ledger runs: on the embedded
broker every idle consumer's fetches slow each hop."""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.load import Replies, Sender, percentile, redeem_request
from bench.seeding import seed_certificates
from bench.stack import Scenario
from giftcert_contracts.topics import Topic

WORKSPACE = "bench-redeem"
WARM_UP = 500
SERVICES = ("ledger", "relay")
SCALED_OUT = ("ledger", "ledger", "relay")
SCALED_OUT_PARTITIONS = 4
"""Two partitions for each of SCALED_OUT's ledgers."""


@dataclass
class Second:
    """The requests sent within one second of a steady load."""

    at: int
    """Whole seconds from the load's first request."""
    p50_ms: float
    p99_ms: float
    requests: int


@dataclass
class Latency:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    offered_per_second: float
    outcomes: dict[str, int]
    each_second: list[Second]

    @classmethod
    def of(cls, timed: Sequence[tuple[float, float]], offered_per_second: float, outcomes: dict[str, int]) -> "Latency":
        """From (sent at, latency in ms) pairs: the percentiles of all, and of each second's."""
        times = [ms for _, ms in timed]
        first = min((sent for sent, _ in timed), default=0.0)
        seconds: dict[int, list[float]] = {}
        for sent, ms in timed:
            seconds.setdefault(int(sent - first), []).append(ms)
        return cls(
            percentile(times, 0.50), percentile(times, 0.95), percentile(times, 0.99), max(times, default=0.0),
            len(times), offered_per_second, outcomes,
            [Second(at, percentile(ms, 0.50), percentile(ms, 0.99), len(ms)) for at, ms in sorted(seconds.items())],
        )


async def replies_and_sender(scenario: Scenario) -> tuple[Replies, Sender]:
    replies = scenario.replies()
    await replies.start()
    sender = Sender.to(scenario.settings, Topic.BOOKING_REDEEM_REQUEST)
    await sender.start()
    return replies, sender


async def warm_up(replies: Replies, sender: Sender, codes: list[str], workspace: str = WORKSPACE) -> None:
    """A few hundred redemptions first: connections open, statements prepared, groups assigned."""
    requests = [redeem_request(workspace, code) for code in codes]
    await sender.send_all(requests)
    await replies.wait_for([r for r, _ in requests], timeout=120)
    sender.sent_at.clear()


@dataclass
class Throughput:
    completions_per_second: float
    """From the first send to the last reply read."""
    outcomes: dict[str, int]
    each_second: list[int]
    """Replies read in each whole second from the first send."""


async def throughput(scenario: Scenario, count: int) -> Throughput:
    seeded = await seed_certificates(scenario.database_dsn, WORKSPACE, count + WARM_UP, seed=4)
    scenario.start(SCALED_OUT)
    replies, sender = await replies_and_sender(scenario)
    try:
        await warm_up(replies, sender, seeded.codes[count:])
        replies.outcomes.clear()
        requests = [redeem_request(WORKSPACE, code) for code in seeded.codes[:count]]
        started = time.perf_counter()
        await sender.send_all(requests)
        await replies.wait_for([r for r, _ in requests], timeout=900)
        finished = max(replies.arrived[r] for r, _ in requests)
    finally:
        await sender.stop()
        await replies.stop()
    each_second = [0] * (int(finished - started) + 1)
    for request_id, _ in requests:
        each_second[int(replies.arrived[request_id] - started)] += 1
    return Throughput(count / (finished - started), dict(replies.outcomes), each_second)


async def latency(scenario: Scenario, per_second: float, seconds: float, *, seed: int = 5) -> Latency:
    count = int(per_second * seconds)
    seeded = await seed_certificates(scenario.database_dsn, WORKSPACE, count + WARM_UP, seed=seed)
    scenario.start(SERVICES)
    replies, sender = await replies_and_sender(scenario)
    try:
        await warm_up(replies, sender, seeded.codes[count:])
        replies.outcomes.clear()
        return await steady_load(replies, sender, seeded.codes[:count], per_second)
    finally:
        await sender.stop()
        await replies.stop()


async def steady_load(
    replies: Replies, sender: Sender, codes: list[str], per_second: float, workspace: str = WORKSPACE
) -> Latency:
    """Redeems `codes` at `per_second` and measures each request's latency."""
    return await steady_timed(replies, sender, [redeem_request(workspace, code) for code in codes], per_second)


async def steady_timed(
    replies: Replies, sender: Sender, requests: Sequence[tuple[str, bytes]], per_second: float
) -> Latency:
    """Sends (request id, body) pairs at `per_second` and measures each one's latency to its reply."""
    await sender.send_at(requests, per_second)
    await replies.wait_for([r for r, _ in requests], timeout=300)
    timed = [(sender.sent_at[r], (replies.arrived[r] - sender.sent_at[r]) * 1000) for r, _ in requests]
    return Latency.of(timed, per_second, dict(replies.outcomes))
