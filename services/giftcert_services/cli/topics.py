"""`giftcert topics plan` and `giftcert topics create`: the topics the service uses, for operators who
create topics ahead of time (a cluster without auto-creation, a review of partitions and retention
before the first deployment). The workers create missing ones from the same plan when they start."""

import asyncio
import json
from typing import Any

import typer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from giftcert.settings import Settings
from giftcert_services.runtime.topics import CreatedTopics, TopicSpec, create_topics, topic_plan

app = typer.Typer(help="The Kafka topics the service uses: show the plan, create missing topics.", no_args_is_help=True)

MS_PER_UNIT = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000))


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:  # inputs are hidden from the message: no password is printed
        typer.echo(f"settings refused: {error}", err=True)
        raise typer.Exit(1) from None


def _retention(milliseconds: str | None) -> str:
    """`7d`, `12h`... as operators think of retention; -1 is Kafka's "for ever"."""
    if milliseconds is None:
        return "broker default"
    value = int(milliseconds)
    if value < 0:
        return "forever"
    for unit, size in MS_PER_UNIT:
        if value and value % size == 0:
            return f"{value // size}{unit}"
    return f"{value}ms"


def _spec_json(spec: TopicSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "partitions": spec.partitions,
        "replication_factor": spec.replication_factor,
        "configs": spec.configs,
        "dead_letters": spec.dead_letters,
    }


@app.command("plan")
def plan(as_json: bool = typer.Option(False, "--json", help="The plan as JSON, for scripts.")) -> None:
    """Every topic the service uses, with the partitions, replication and configs it is created with."""
    specs = topic_plan(_settings())
    if as_json:
        typer.echo(json.dumps([_spec_json(spec) for spec in specs], indent=2))
        return
    rows = [("topic", "partitions", "replication", "retention", "cleanup")]
    rows += [
        (
            spec.name, str(spec.partitions), str(spec.replication_factor),
            _retention(spec.configs.get("retention.ms")), spec.configs.get("cleanup.policy", "broker default"),
        )
        for spec in specs
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@app.command("create")
def create(as_json: bool = typer.Option(False, "--json", help="What was created and what existed, as JSON.")) -> None:
    """Create the plan's missing topics. Existing topics are never altered, even when their partitions
    or configs differ from the plan: change those with Kafka's own tools."""
    settings = _settings()
    try:
        result: CreatedTopics = asyncio.run(create_topics(settings))
    except (KafkaError, OSError) as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        typer.echo(f"broker refused or unreachable ({type(error).__name__}): {first_line}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"created": result.created, "existing": result.existing}, indent=2))
        return
    for name in result.created:
        typer.echo(f"created   {name}")
    for name in result.existing:
        typer.echo(f"existing  {name}")
    typer.echo(
        f"{len(result.created)} created, {len(result.existing)} already existed "
        "(left as they are: existing topics are never altered)"
    )
