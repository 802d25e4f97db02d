"""The reliability report: tests that inject a fault or play an attacker record what they did with
the `reliability` fixture, and the run ends with a table of each fault or attack, how many times it
was injected, the invariants checked after it, and the result. `make reliability` runs those tests
(`-m reliability`); `make test` runs them with everything else and prints the same table."""

from collections.abc import Generator
from dataclasses import dataclass, field

import pytest


@dataclass
class Trial:
    test: str
    fault: str
    injected: int
    invariants: list[str]
    outcome: str = "not run"


@dataclass
class Recorder:
    """What one test records: `record(fault, injected, invariants)` once per fault it injects."""

    test: str
    trials: list[Trial] = field(default_factory=list)

    def record(self, fault: str, *, injected: int, invariants: list[str]) -> None:
        self.trials.append(Trial(self.test, fault, injected, list(invariants)))


_TRIALS_KEY = pytest.StashKey[list[Trial]]()
_RECORDER_KEY = pytest.StashKey[Recorder]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TRIALS_KEY] = []
    config.addinivalue_line(
        "markers", "reliability: injects a fault or plays an attacker; listed in the reliability report"
    )


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Recorder:
    recorder = Recorder(request.node.nodeid)
    request.node.stash[_RECORDER_KEY] = recorder
    return recorder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    del call
    report = yield
    recorder = item.stash.get(_RECORDER_KEY, None)
    if recorder is not None:
        outcome = "failed" if report.failed else report.outcome if report.when == "call" else None
        for trial in recorder.trials:
            if outcome is not None and trial.outcome != "failed":
                trial.outcome = outcome
        if report.when == "teardown":
            item.config.stash[_TRIALS_KEY].extend(recorder.trials)
    return report


def _merged(trials: list[Trial]) -> list[Trial]:
    """One row per fault and invariants: the cases of a parametrized test add up; any failure shows."""
    rows: dict[tuple[str, tuple[str, ...]], Trial] = {}
    for trial in trials:
        key = (trial.fault, tuple(trial.invariants))
        if key not in rows:
            rows[key] = Trial(trial.test, trial.fault, 0, trial.invariants, "passed")
        row = rows[key]
        row.injected += trial.injected
        if trial.outcome != "passed":
            row.outcome = trial.outcome
    return list(rows.values())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    trials = _merged(config.stash.get(_TRIALS_KEY, []))
    if not trials:
        return
    terminalreporter.section("reliability report")
    rows = [("fault or attack", "injected", "invariants checked", "result")]
    rows += [(t.fault, str(t.injected), "; ".join(t.invariants), t.outcome.upper()) for t in trials]
    widths = [min(max(len(row[i]) for row in rows), limit) for i, limit in enumerate((60, 8, 90, 6))]
    for number, row in enumerate(rows):
        cells = [c if len(c) <= width else c[: width - 1] + "…" for c, width in zip(row, widths, strict=True)]
        terminalreporter.write_line(" | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))
        if number == 0:
            terminalreporter.write_line("-+-".join("-" * width for width in widths))
    failed = sum(t.outcome != "passed" for t in trials)
    injections = sum(t.injected for t in trials)
    terminalreporter.write_line(f"{len(trials)} faults and attacks, {injections} injections, {failed} not passed")
