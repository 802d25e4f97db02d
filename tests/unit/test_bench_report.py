"""The benchmark's report (bench/report.py, bench/__main__.py, bench/profile.py): every figure judged by its target and
shown beside the limit of the same run; the run's heading says the broker and the host's load. No
speed is asserted here: the figures are made up."""

from datetime import UTC, datetime
from typing import Any

import pytest

from bench.__main__ import _targets
from bench.activation import Activation, per_certificate_ms
from bench.growth import AtSize, Searches, Tick
from bench.memory import Backlog
from bench.profile import PARTS, profile
from bench.redemption import Latency, Throughput
from bench.report import at_least_beside, at_most_beside, heading, load_average, machine, markdown

ECHO = "bare echo round trips/s (2 processes, 4 partitions)"
ECHO_P99 = "bare echo round trip p99 ms at 500/s"
PAGES = "certificate PDF pages/s, one core (QR included)"


def _latency(p99: float) -> Latency:
    return Latency(p99 / 2, p99, p99, p99, 100, 500.0, {}, [])


def _figures(*, throughput: float, p99: float, activated: float) -> dict[str, Any]:
    searches = Searches(1.0, [1.0], [0.5])
    return {
        "redemption throughput": Throughput(throughput, {}, []),
        "redemption latency": _latency(p99),
        "activation": Activation(activated, 300.0, 2000, {}, {}),
        "redemption backlog": Backlog(10, 10, 1.0, {"ledger": 150.0, "relay": 120.0}),
        "delivery backlog": Backlog(10, 10, 1.0, {"documents": 190.0, "mailer": 140.0}),
        "growth": {
            "small": AtSize(10_000, _latency(20.0), searches, searches),
            "large": AtSize(1_000_000, _latency(30.0), searches, searches),
            "tick": Tick(100_000, 20.0, _latency(90.0), _latency(30.0)),
        },
    }


def _limits(echo: float = 8000.0) -> dict[str, float]:
    return {"PostgreSQL commits/s, 16 connections": 19_000.0, ECHO: echo, ECHO_P99: 12.0, PAGES: 180.0}


def test_redemption_throughput_is_judged_by_half_the_bare_echo_not_by_the_commit_rate() -> None:
    targets = _targets(_limits(echo=8000.0), _figures(throughput=3900.0, p99=40.0, activated=160.0))

    ratio = next(t for t in targets if t.compared_with == ECHO)
    assert (ratio.reference, ratio.target, ratio.met) == (8000.0, ">= 0.5x", False)
    assert ratio.ratio == pytest.approx(3900 / 8000)
    assert not any("commit" in t.compared_with for t in targets)
    met = next(t for t in _targets(_limits(echo=7800.0), _figures(throughput=3900.0, p99=40.0, activated=160.0))
               if t.compared_with == ECHO)
    assert met.met


def test_the_pdf_ratio_is_retired_and_activation_needs_150_a_second_beside_the_page_rate() -> None:
    targets = _targets(_limits(), _figures(throughput=5000.0, p99=40.0, activated=149.0))

    assert not any("text-only" in t.compared_with or t.figure.startswith("certificate PDF") for t in targets)
    activation = next(t for t in targets if t.figure.startswith("activation"))
    assert (activation.target, activation.met, activation.compared_with, activation.reference) == (
        ">= 150 /s", False, PAGES, 180.0,
    )
    assert next(
        t for t in _targets(_limits(), _figures(throughput=5000.0, p99=40.0, activated=150.0))
        if t.figure.startswith("activation")
    ).met


def test_the_latency_targets_are_50_ms_beside_the_bare_echo_and_100_ms_during_the_tick() -> None:
    targets = _targets(_limits(), _figures(throughput=5000.0, p99=51.0, activated=200.0))

    steady = next(t for t in targets if t.figure == "redemption p99 at 500/s offered")
    assert (steady.target, steady.met, steady.compared_with, steady.reference) == ("<= 50 ms", False, ECHO_P99, 12.0)
    tick = next(t for t in targets if "during a tick" in t.figure)
    assert (tick.target, tick.met, tick.reference) == ("<= 100 ms", True, 30.0)
    assert [t.met for t in targets if t.figure.startswith("peak RSS")] == [True, True, True, True]


def test_a_figure_beside_a_limit_is_judged_by_its_own_bound_alone() -> None:
    above = at_least_beside("activation", 160.0, "/s", minimum=150, reference=320.0, compared_with="pages/s")
    below = at_most_beside("p99", 60.0, "ms", maximum=50, reference=6.0, compared_with="echo p99")

    assert (above.met, above.ratio) == (True, 0.5)
    assert (below.met, below.ratio) == (False, 10.0)


def test_the_tables_open_with_the_run_its_broker_and_the_hosts_load_ready_to_paste() -> None:
    document = {
        "command": "make bench", "finished_at": datetime(2026, 12, 7, 1, 2, tzinfo=UTC).isoformat(),
        "machine": machine() | {"postgresql": "18.6", "broker": "Apache Kafka 4.3.1 (KRaft, 1 node)"},
        "load_average": {"limits": (1.5, 1.0, 0.5), "end": load_average()},
    }
    targets = _targets(_limits(), _figures(throughput=5000.0, p99=40.0, activated=200.0))

    table = markdown(targets, _limits(), document)

    assert table.startswith(heading(document))
    assert "`make bench`, finished 2026-12-07 01:02 UTC, on Apache Kafka 4.3.1 (KRaft, 1 node)" in table
    assert "limits 1.5, 1, 0.5" in table
    assert f"| {ECHO} | 8,000 |" in table
    assert "| redemption throughput | 5,000 /s | " + ECHO + " | 8,000 | 0.62 | >= 0.5x | yes |" in table


def test_cpu_per_certificate_is_each_processs_time_over_the_count_and_their_sum() -> None:
    spent = per_certificate_ms({"documents": 1.0, "mailer": 2.0}, {"documents": 2.0, "mailer": 2.5, "broker": 0.2}, 100)

    assert spent == {"documents": 10.0, "mailer": 5.0, "broker": 2.0, "all": 17.0}


def test_the_profile_says_where_a_certificates_cpu_goes_in_the_pdf_and_the_email() -> None:
    table = profile(2)

    assert "| PDF drawn (reportlab canvas, segno, embedded TrueType subsets) |" in table
    assert "| email composed and flattened (`EmailMessage`, PDF attached) |" in table
    for what, _, _ in PARTS:
        assert f"| {what} |" in table
