"""`/readyz` of ledger replicas sharing their consumer groups, as a Kubernetes readiness probe sees
them: not ready until every consumer has joined its group; ready with no partition at all when
there are more replicas than partitions (an idle standby: the rollout goes on, and it takes over at
the next rebalance); and the partitions each replica lists cover every partition of every group
exactly once, before and after one replica stops."""

import asyncio
import time
from typing import Any

import httpx
import pytest

from giftcert.settings import Settings
from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from tests.e2e.conftest import Launcher, Worker, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

REPLICAS = 3  # the e2e topics have 2 partitions: in each group one replica holds none


async def _ready(client: httpx.AsyncClient, port: int) -> tuple[int, dict[str, Any]]:
    try:
        answer = await client.get(f"http://127.0.0.1:{port}/readyz")
    except httpx.TransportError:
        return 0, {}
    return answer.status_code, answer.json()


async def _answers_until_ready(client: httpx.AsyncClient, port: int, worker: Worker) -> list[tuple[int, Any]]:
    """Every answer of the replica's /readyz from its start until it says 200."""
    answers: list[tuple[int, Any]] = []
    deadline = time.monotonic() + 60
    while not answers or answers[-1][0] != 200:
        assert time.monotonic() < deadline, f"never ready: {answers[-3:]}\n{worker.output[-3000:]}"
        status, body = await _ready(client, port)
        if status:
            answers.append((status, body))
        await asyncio.sleep(0.05)
    return answers


def _coverage(bodies: list[dict[str, Any]], groups: set[str]) -> dict[str, list[int]]:
    """Each group's partitions, as the replicas list them together (sorted, repeats kept)."""
    held: dict[str, list[int]] = {group: [] for group in groups}
    for body in bodies:
        for group, partitions in body["partitions"].items():
            held[group] += partitions
    return {group: sorted(partitions) for group, partitions in held.items()}


async def _until_covered(
    client: httpx.AsyncClient, ports: list[int], groups: set[str], expected: list[int]
) -> list[dict[str, Any]]:
    """The replicas' /readyz bodies once all are 200 and hold every partition of each group once."""
    deadline = time.monotonic() + 60
    while True:
        answers = [await _ready(client, port) for port in ports]
        bodies = [body for _, body in answers]
        if all(status == 200 for status, _ in answers) and all(
            partitions == expected for partitions in _coverage(bodies, groups).values()
        ):
            return bodies
        assert time.monotonic() < deadline, f"not covered: {answers}"
        await asyncio.sleep(0.2)


async def test_ledger_replicas_are_ready_once_joined_even_with_no_partition_and_share_every_partition_once(
    launch: Launcher, settings: Settings
) -> None:
    groups = {settings.group_id("ledger", topic) for topic in INBOUND_TOPICS if topic is not Topic.EXPIRY_TICK}
    every_partition = list(range(settings.topic_partitions))
    ports = [free_port() for _ in range(REPLICAS)]
    async with httpx.AsyncClient(timeout=5) as client:
        workers = []
        for port in ports:
            worker = launch("ledger", health_port=str(port))
            answers = await _answers_until_ready(client, port, worker)
            joining = [body for status, body in answers if status == 503]
            assert any("assigned" in body["failing"] for body in joining), f"ready before it joined: {answers[:3]}"
            assert set(answers[-1][1]["checks"]) == {"database", "schema", "broker", "subscribers", "assigned"}
            workers.append(worker)

        bodies = await _until_covered(client, ports, groups, every_partition)
        standing_by = [(port, group) for port, body in zip(ports, bodies, strict=True)
                       for group, partitions in body["partitions"].items() if not partitions]
        assert len(standing_by) >= len(groups), f"more replicas than partitions, yet every one holds some: {bodies}"

        assert workers[0].stop() == 0
        await _until_covered(client, ports[1:], groups, every_partition)  # the others took its partitions over
