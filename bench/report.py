"""The benchmark's results: one JSON document and one Markdown table, each figure next to the limit
it is judged by (measured in the same run) and its target."""

import json
import math
import os
import platform
from dataclasses import asdict, dataclass, is_dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

PACKAGES = ("faststream", "aiokafka", "sqlalchemy", "asyncpg", "pydantic", "reportlab", "segno")


@dataclass(frozen=True)
class Target:
    figure: str
    value: float
    unit: str
    compared_with: str
    reference: float
    ratio: float
    target: str
    met: bool


def at_least(figure: str, value: float, unit: str, *, minimum: float) -> Target:
    return Target(figure, value, unit, "target", minimum, value / minimum, f">= {minimum:g} {unit}", value >= minimum)


def at_most(figure: str, value: float, unit: str, *, maximum: float) -> Target:
    return Target(figure, value, unit, "target", maximum, value / maximum, f"<= {maximum:g} {unit}", value <= maximum)


def at_most_beside(
    figure: str, value: float, unit: str, *, maximum: float, reference: float, compared_with: str
) -> Target:
    """Judged against `maximum`, shown beside (and as a ratio to) `reference`, a figure of the same run."""
    return Target(figure, value, unit, compared_with, reference, value / reference, f"<= {maximum:g} {unit}",
                  value <= maximum)


def at_least_beside(
    figure: str, value: float, unit: str, *, minimum: float, reference: float, compared_with: str
) -> Target:
    """Judged against `minimum`, shown beside (and as a ratio to) `reference`, a figure of the same run."""
    return Target(figure, value, unit, compared_with, reference, value / reference, f">= {minimum:g} {unit}",
                  value >= minimum)


def relative(
    figure: str, value: float, unit: str, *, reference: float, compared_with: str, minimum: float | None = None,
    maximum: float | None = None,
) -> Target:
    """`value` judged by its ratio to `reference`: at least `minimum` times it, or at most `maximum`."""
    ratio = value / reference
    if minimum is not None:
        return Target(figure, value, unit, compared_with, reference, ratio, f">= {minimum:g}x", ratio >= minimum)
    if maximum is None:
        raise ValueError("a minimum or a maximum ratio")
    return Target(figure, value, unit, compared_with, reference, ratio, f"<= {maximum:g}x", ratio <= maximum)


def load_average() -> tuple[float, float, float]:
    """The host's load average over 1, 5 and 15 minutes: on a shared machine, how much else ran."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "packages": {name: version(name) for name in PACKAGES},
    }


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _number(value: float, whole_from: float = 100) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= whole_from else f"{value:,.2f}".rstrip("0").rstrip(".")


def heading(document: dict[str, Any]) -> str:
    """The run in a few lines above its tables: what ran, where, on which broker, how loaded the host was."""
    host = document["machine"]
    loads = document.get("load_average", {})
    lines = [
        (f"`{document['command']}`, finished {document['finished_at'][:16].replace('T', ' ')} UTC, on "
         f"{host.get('broker', 'the embedded broker')} and PostgreSQL {host.get('postgresql', '?')}."),
        f"Machine: {host['cores']} cores ({host['cpu']}), {host['memory_gib']} GiB, Linux {host['kernel']}, "
        f"Python {host['python']}; " + ", ".join(f"{name} {v}" for name, v in host["packages"].items()) + ".",
    ]
    if loads:
        lines.append("Load average (1, 5, 15 min) as each part began: " + "; ".join(
            f"{part} {one:g}, {five:g}, {fifteen:g}" for part, (one, five, fifteen) in loads.items()
        ) + ".")
    return "".join(f"- {line}\n" for line in lines)


def markdown(targets: list[Target], limits: dict[str, float], document: dict[str, Any] | None = None) -> str:
    lines = [
        *([heading(document)] if document is not None else []),
        "| limit (measured first, same run) | value |",
        "|---|---:|",
        *(f"| {name} | {_number(value)} |" for name, value in limits.items()),
        "",
        "| figure | value | compared with | its value | ratio | target | met |",
        "|---|---:|---|---:|---:|---|:---:|",
        *(
            f"| {t.figure} | {_number(t.value)} {t.unit} | {t.compared_with} | {_number(t.reference)} | "
            f"{t.ratio:.2f} | {t.target} | {'yes' if t.met else '**no**'} |"
            for t in targets
        ),
    ]
    return "\n".join(lines) + "\n"


def write(folder: Path, document: dict[str, Any], targets: list[Target], limits: dict[str, float]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / "results.json"
    table = folder / "results.md"
    results.write_text(json.dumps(_plain({**document, "targets": targets}), indent=2) + "\n")
    table.write_text(markdown(targets, limits, document))
    return results, table
