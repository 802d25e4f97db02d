"""The production files, checked without a Docker engine: docker-compose.yml runs every service of the
CLI on Apache Kafka (KRaft) and PostgreSQL after the migrations, with settings the code knows, from the
one image deploy/Dockerfile builds."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from giftcert.settings import Settings
from giftcert_services.app import SERVICES

ROOT = Path(__file__).parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES_IN_COMPOSE: dict[str, Any] = COMPOSE["services"]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
WORKERS = {name: spec for name, spec in SERVICES_IN_COMPOSE.items() if spec.get("image") == "giftcert:latest"}


def test_every_service_of_the_cli_runs_in_compose() -> None:
    commands = {tuple(spec["command"]) for spec in WORKERS.values()}
    assert {("run", name) for name in SERVICES} <= commands
    assert ("db", "upgrade") in commands


@pytest.mark.parametrize("name", SERVICES)
def test_workers_start_after_the_migrations_and_a_healthy_broker(name: str) -> None:
    depends = SERVICES_IN_COMPOSE[name]["depends_on"]
    assert depends["migrate"] == {"condition": "service_completed_successfully"}
    assert depends["kafka"] == {"condition": "service_healthy"}
    assert SERVICES_IN_COMPOSE["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_kafka_is_the_official_apache_image_in_kraft_mode_without_topic_auto_creation() -> None:
    kafka = SERVICES_IN_COMPOSE["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(kafka["environment"]["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "ZOOKEEPER" not in str(kafka).upper()
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # the services create theirs
    assert "healthcheck" in kafka


def test_postgres_and_mailpit_are_there() -> None:
    assert SERVICES_IN_COMPOSE["postgres"]["image"].startswith("postgres:18")
    assert "healthcheck" in SERVICES_IN_COMPOSE["postgres"]
    assert SERVICES_IN_COMPOSE["mailpit"]["image"].startswith("axllent/mailpit:")


def test_the_ledger_runs_two_replicas() -> None:
    assert SERVICES_IN_COMPOSE["ledger"]["deploy"]["replicas"] == 2


def test_every_giftcert_variable_in_compose_is_a_setting_and_the_database_url_uses_asyncpg() -> None:
    for spec in WORKERS.values():
        env = spec["environment"]
        for key in env:
            assert key.startswith("GIFTCERT_"), key
            assert key.removeprefix("GIFTCERT_").split("__")[0].lower() in Settings.model_fields, key
        Settings(**{k.removeprefix("GIFTCERT_").lower(): v for k, v in env.items()})  # every value parses
        assert env["GIFTCERT_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["GIFTCERT_KAFKA_ACKS"] == "all"


def test_a_stopping_worker_has_longer_than_its_grace_period() -> None:
    for spec in WORKERS.values():
        grace = float(spec["environment"]["GIFTCERT_GRACEFUL_TIMEOUT_SECONDS"])
        assert float(spec["stop_grace_period"].removesuffix("s")) > grace


def test_the_image_runs_the_giftcert_command_as_a_user_that_is_not_root() -> None:
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    users = [line.split()[1] for line in final_stage.splitlines() if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}
    assert 'ENTRYPOINT ["giftcert"]' in final_stage


def test_nothing_turns_off_synchronous_commit() -> None:
    for text in ((ROOT / "docker-compose.yml").read_text(), DOCKERFILE):
        assert "synchronous_commit" not in text
