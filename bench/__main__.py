"""`python -m bench [--quick] [--broker kafka|tansu] [--out var/bench]`: the limits first (the
bare echo service among them), then the pipeline's figures, each on a database and topics of its own
with fresh worker processes, on Apache Kafka (one KRaft node) unless Tansu is asked for; the results
go to `<out>/results.json`, `<out>/results.md` (the run's heading, with the host's load, and its
tables, ready to paste into docs/benchmarks.md) and a plot, `<out>/redemption.svg`; the table is printed."""

import argparse
import asyncio
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import activation, chart, echo, growth, limits, memory, redemption
from bench.report import (
    Target,
    at_least,
    at_least_beside,
    at_most,
    at_most_beside,
    load_average,
    machine,
    relative,
    write,
)
from bench.stack import BenchStack
from giftcert.embedded.stack import BROKER_KINDS, BrokerKind


@dataclass(frozen=True)
class Sizes:
    redemptions: int = 20_000
    latency_rate: float = 500.0
    latency_seconds: float = 60.0
    activations: int = 2_000
    backlog: int = 100_000
    delivery_seconds: float = 90.0
    small_store: int = 10_000
    large_store: int = 1_000_000
    expiring: int = 100_000


QUICK = Sizes(2_000, 200.0, 10.0, 200, 10_000, 15.0, 10_000, 60_000, 10_000)


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)  # noqa: T201


async def _postgres_version(dsn: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def run(sizes: Sizes, out: Path, broker: BrokerKind = "kafka") -> int:
    shutil.rmtree(out / "run", ignore_errors=True)
    figures: dict[str, Any] = {}
    loads: dict[str, tuple[float, float, float]] = {}

    def part(name: str, message: str) -> None:
        loads[name] = load_average()
        log(f"{message} (load average {', '.join(f'{v:g}' for v in loads[name])})")

    with BenchStack(out / "run", broker) as stack:
        log(f"broker: {stack.broker_name}")
        found, figures["bare echo"], postgres_version = _limits(stack, sizes, part)

        with stack.scenario("throughput", topic_partitions=redemption.SCALED_OUT_PARTITIONS) as scenario:
            part("throughput", f"redemption throughput: {sizes.redemptions:,} requests as fast as possible, "
                 "two ledger processes")
            figures["redemption throughput"] = asyncio.run(redemption.throughput(scenario, sizes.redemptions))
        with stack.scenario("latency") as scenario:
            part("latency", f"redemption latency: {sizes.latency_rate:g}/s for {sizes.latency_seconds:g}s")
            figures["redemption latency"] = asyncio.run(
                redemption.latency(scenario, sizes.latency_rate, sizes.latency_seconds)
            )
        with stack.scenario("activation") as scenario:
            part("activation", f"activation: {sizes.activations:,} payments to certificate-sent")
            activated = figures["activation"] = asyncio.run(activation.activation(scenario, sizes.activations))
            cores = os.cpu_count() or 1
            found[f"activation's ceiling from its CPU: {cores} cores / CPU ms a certificate, all processes"] = (
                cores * 1000 / activated.cpu_ms_per_certificate["all"]
            )
        with stack.scenario("backlog") as scenario:
            part("backlog", f"memory: a backlog of {sizes.backlog:,} redeem requests drains")
            figures["redemption backlog"] = asyncio.run(memory.redemption_backlog(scenario, sizes.backlog))
        with stack.scenario("delivery") as scenario:
            part("delivery", f"memory: a backlog of {sizes.backlog:,} certificate-activated, "
                 f"{sizes.delivery_seconds:g}s of it")
            figures["delivery backlog"] = asyncio.run(
                memory.delivery_backlog(scenario, sizes.backlog, sizes.delivery_seconds)
            )
        with stack.scenario("growth") as scenario:
            part("growth", "growth")
            figures["growth"] = asyncio.run(_growth(scenario, sizes))
        loads["end"] = load_average()
        broker_name = stack.broker_name

    targets = _targets(found, figures)
    document = {
        "command": "make bench" + ("" if sizes == Sizes() else " (python -m bench --quick)")
        + ("" if broker == "kafka" else f" --broker {broker}"),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine() | {"postgresql": postgres_version, "broker": broker_name},
        "load_average": loads,
        "sizes": sizes, "limits": found, "figures": figures,
    }
    results, table = write(out, document, targets, found)
    tick: growth.Tick = figures["growth"]["tick"]
    plot = chart.draw(out / "redemption.svg", figures["redemption throughput"], figures["redemption latency"],
                      tick.redeem_during, tick.expired)
    sys.stdout.write(table.read_text())
    log(f"written: {results}, {table} and {plot}")
    return 0


def _limits(
    stack: BenchStack, sizes: Sizes, part: Callable[[str, str], None]
) -> tuple[dict[str, float], dict[str, Any], str]:
    """The limits, the bare echo's among them: (their figures by name, the echo's figures, PostgreSQL's version)."""
    waits = stack.fetch_waits
    rate, span = f"{sizes.latency_rate:g}/s", f"{sizes.latency_seconds:g} s"
    with stack.scenario("limits") as scenario:
        dsn, servers = scenario.database_dsn, scenario.settings.kafka_bootstrap_servers
        part("limits", "limits: PostgreSQL commits, broker messages and hop latency")
        found = {
            "PostgreSQL commits/s, 1 connection": asyncio.run(limits.commits_per_second(dsn, 1)),
            "PostgreSQL commits/s, 16 connections": asyncio.run(limits.commits_per_second(dsn, 16)),
            "broker messages/s (produce + consume, redeem-sized)": asyncio.run(
                limits.broker_messages_per_second(servers)
            ),
        }
        hop = asyncio.run(limits.broker_hop_ms(servers, sizes.latency_rate, sizes.latency_seconds, waits.workers))
        found[f"broker hop p50 ms at {rate} for {span}"] = hop.p50_ms
        found[f"broker hop p99 ms at {rate} for {span}"] = hop.p99_ms
        found[f"broker hop p99 ms at {rate}, first 10 s"] = hop.first_p99_ms
        found[f"broker hop p99 ms at {rate}, last 10 s of {span}"] = hop.last_p99_ms
        stored = int(sizes.latency_rate * sizes.latency_seconds)
        hop_empty, hop_stored = asyncio.run(limits.broker_hop_by_history_ms(servers, stored, waits.workers))
        found["broker hop p50 ms, empty partition"] = hop_empty
        found[f"broker hop p50 ms, {stored:,} one-record batches stored"] = hop_stored
        postgres_version = asyncio.run(_postgres_version(dsn))
    with stack.scenario("echo", topic_partitions=redemption.SCALED_OUT_PARTITIONS) as scenario:
        processes = redemption.SCALED_OUT.count("ledger")
        part("echo", f"bare echo: {sizes.redemptions:,} round trips as fast as possible, {processes} processes")
        echoed = asyncio.run(echo.round_trips(scenario, sizes.redemptions, processes))
        found[f"bare echo round trips/s ({processes} processes, {scenario.settings.topic_partitions} partitions)"] = (
            echoed.completions_per_second
        )
    with stack.scenario("echo-latency") as scenario:
        part("echo-latency", f"bare echo latency: {rate} for {span}, one process")
        echo_latency = asyncio.run(echo.latency(scenario, sizes.latency_rate, sizes.latency_seconds))
        found[f"bare echo round trip p50 ms at {rate}"] = echo_latency.p50_ms
        found[f"bare echo round trip p99 ms at {rate}"] = echo_latency.p99_ms
    part("pdf", "certificate PDF pages/s on one core (reportlab canvas, segno, fonts warm)")
    found["certificate PDF pages/s, one core (QR included)"] = limits.pages_per_second(
        activation.render_certificate
    )
    return found, {"round trips": echoed, "latency": echo_latency}, postgres_version


async def _growth(scenario: Any, sizes: Sizes) -> dict[str, Any]:
    async with growth.Growth(scenario) as grown:
        log(f"growth: {sizes.small_store:,} certificates")
        await grown.add(sizes.small_store)
        small = await grown.measure()
        log(f"growth: seeding up to {sizes.large_store:,} certificates ({sizes.expiring:,} of them expiring)")
        started = time.perf_counter()
        await grown.add(sizes.large_store - sizes.small_store - sizes.expiring)
        await grown.add(sizes.expiring, expires_in=timedelta(hours=1), used=False)
        log(f"growth: seeded in {time.perf_counter() - started:.0f}s; measuring at {grown.size:,}")
        large = await grown.measure()
        log(f"growth: one expiry tick expiring {sizes.expiring:,} while redemptions go on")
        tick = await grown.tick(sizes.expiring)
    return {"small": small, "large": large, "tick": tick}


def _limit(found: dict[str, float], starts: str) -> tuple[str, float]:
    """The limit whose name starts so: its full name (with its rate and sizes) and its value."""
    return next((name, value) for name, value in found.items() if name.startswith(starts))


def _targets(found: dict[str, float], figures: dict[str, Any]) -> list[Target]:
    throughput = figures["redemption throughput"].completions_per_second
    latency: redemption.Latency = figures["redemption latency"]
    activated: activation.Activation = figures["activation"]
    peaks = figures["redemption backlog"].peak_rss_mb | {
        f"{name} (delivery backlog)": mb for name, mb in figures["delivery backlog"].peak_rss_mb.items()
    }
    small: growth.AtSize = figures["growth"]["small"]
    large: growth.AtSize = figures["growth"]["large"]
    tick: growth.Tick = figures["growth"]["tick"]
    at_10k = f"the same at {small.certificates:,}"
    rounds = f"median of {growth.SEARCH_ROUNDS} rounds"
    echo_name, echo_rate = _limit(found, "bare echo round trips/s")
    echo_p99_name, echo_p99 = _limit(found, "bare echo round trip p99")
    pages_name, pages = _limit(found, "certificate PDF pages/s")
    return [
        at_least("redemption throughput", throughput, "/s", minimum=3000),
        relative("redemption throughput", throughput, "/s", reference=echo_rate, compared_with=echo_name, minimum=0.5),
        at_most_beside(f"redemption p99 at {latency.offered_per_second:g}/s offered", latency.p99_ms, "ms",
                       maximum=50, reference=echo_p99, compared_with=echo_p99_name),
        at_least_beside("activation, payment to certificate-sent", activated.certificates_per_second, "/s",
                        minimum=150, reference=pages, compared_with=pages_name),
        *(at_most(f"peak RSS, {name}", mb, "MB", maximum=200) for name, mb in peaks.items()),
        relative(f"redeem p99 at {large.certificates:,}", large.redeem.p99_ms, "ms",
                 reference=small.redeem.p99_ms, compared_with=at_10k, maximum=2),
        relative(f"search by email p99 at {large.certificates:,}, {rounds}", large.search_by_email.p99_ms, "ms",
                 reference=small.search_by_email.p99_ms, compared_with=at_10k, maximum=2),
        relative(f"search by code p99 at {large.certificates:,}, {rounds}", large.search_by_code.p99_ms, "ms",
                 reference=small.search_by_code.p99_ms, compared_with=at_10k, maximum=2),
        at_most_beside(f"redeem p99 during a tick expiring {tick.expired:,}", tick.redeem_during.p99_ms, "ms",
                       maximum=100, reference=tick.redeem_before.p99_ms,
                       compared_with=f"the same load, no tick, the {growth.QUIET_SECONDS:g} s before"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that the harness runs")
    parser.add_argument("--out", type=Path, default=Path("var/bench"), help="where results and logs go")
    parser.add_argument("--broker", choices=BROKER_KINDS, default="kafka",
                        help="Apache Kafka, one KRaft node (the default; Tansu where it cannot run), or Tansu")
    arguments = parser.parse_args()
    return run(QUICK if arguments.quick else Sizes(), arguments.out, arguments.broker)


if __name__ == "__main__":
    sys.exit(main())
