"""`giftcert topics plan` and `giftcert topics create` on the real broker: create makes every planned
topic with its partitions and configs, a second run finds them all and alters nothing, and the workers'
`ensure_topics` follows the same plan."""

import asyncio
import json
from typing import Any
from uuid import uuid4

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from click.testing import Result
from typer.testing import CliRunner

from giftcert.settings import Settings
from giftcert_services.cli.main import app
from giftcert_services.runtime.topics import ensure_topics, topic_plan

pytestmark = pytest.mark.integration

DAY_MS = 24 * 3600 * 1000


def environment(kafka_bootstrap_servers: str, prefix: str) -> dict[str, str]:
    return {
        "GIFTCERT_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "GIFTCERT_TOPIC_PREFIX": prefix,
        "GIFTCERT_TOPIC_PARTITIONS": "2",
        "GIFTCERT_TOPIC_RETENTION_MS": str(2 * DAY_MS),
        "GIFTCERT_DEAD_LETTER_RETENTION_MS": str(45 * DAY_MS),
        "COLUMNS": "200",
    }


async def giftcert(env: dict[str, str], *args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, app, ["topics", *args], env=env)


async def describe(kafka_bootstrap_servers: str, names: list[str]) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    """Partitions per topic, and the configs the broker reports for each (as set, or its defaults)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    await admin.start()
    try:
        partitions = {topic["topic"]: len(topic["partitions"]) for topic in await admin.describe_topics(names)}
        # every config, not a chosen few: Tansu drops the connection when asked for named keys
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
        configs: dict[str, dict[str, str]] = {}
        for response in responses:
            for resource in response.resources:
                _, _, _, name, entries = resource[:5]
                configs[name] = {entry[0]: entry[1] for entry in entries}
        return partitions, configs
    finally:
        await admin.close()


async def test_create_makes_every_planned_topic_with_its_partitions_and_configs(kafka_bootstrap_servers: str) -> None:
    prefix = f"tc{uuid4().hex[:8]}."
    env = environment(kafka_bootstrap_servers, prefix)
    planned = await giftcert(env, "plan", "--json")
    assert planned.exit_code == 0, planned.output
    plan: list[dict[str, Any]] = json.loads(planned.stdout)
    names = [topic["name"] for topic in plan]
    assert names
    assert all(name.startswith(prefix) for name in names)

    created = await giftcert(env, "create", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout) == {"created": names, "existing": []}

    partitions, configs = await describe(kafka_bootstrap_servers, names)
    assert partitions == dict.fromkeys(names, 2)
    for topic in plan:  # Apache Kafka and Tansu both report what a topic was created with
        retention = str((45 if topic["dead_letters"] else 2) * DAY_MS)
        assert configs[topic["name"]]["retention.ms"] == retention, topic["name"]
        assert configs[topic["name"]]["cleanup.policy"] == "delete", topic["name"]

    again = await giftcert(env, "create")
    assert again.exit_code == 0, again.output
    assert f"0 created, {len(names)} already existed" in again.stdout
    assert "never altered" in again.stdout
    assert {line.split()[1] for line in again.stdout.splitlines() if line.startswith("existing")} == set(names)


async def test_existing_topics_are_left_as_they_are_and_the_rest_are_created(kafka_bootstrap_servers: str) -> None:
    prefix = f"tc{uuid4().hex[:8]}."
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap_servers, topic_prefix=prefix, topic_partitions=1)
    first = topic_plan(settings)[0]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([first.new_topic()])
    finally:
        await admin.close()

    env = environment(kafka_bootstrap_servers, prefix)  # asks for 2 partitions
    created = await giftcert(env, "create", "--json")
    assert created.exit_code == 0, created.output
    result = json.loads(created.stdout)
    assert result["existing"] == [first.name]
    assert len(result["created"]) == len(topic_plan(settings)) - 1

    partitions, _ = await describe(kafka_bootstrap_servers, [first.name, result["created"][0]])
    assert partitions == {first.name: 1, result["created"][0]: 2}


async def test_the_workers_ensure_topics_follows_the_same_plan(kafka_bootstrap_servers: str) -> None:
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap_servers, topic_prefix=f"tc{uuid4().hex[:8]}.")
    await ensure_topics(settings)
    await ensure_topics(settings)  # a second replica starting: nothing to do, no error
    env = environment(kafka_bootstrap_servers, settings.topic_prefix)
    again = await giftcert(env, "create", "--json")
    assert json.loads(again.stdout)["created"] == []


async def test_an_unreachable_broker_is_reported_in_one_line() -> None:
    result = await giftcert(environment("127.0.0.1:1", "tcnone."), "create")
    assert result.exit_code == 1
    assert "unreachable" in result.stderr
