"""The production files, checked without a Docker engine: docker-compose.yml runs every service of the
CLI on Apache Kafka (three KRaft nodes) and PostgreSQL after the migrations, with settings the code knows, from the
one image deploy/Dockerfile builds."""

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, get_origin

import pytest
import yaml
from sqlalchemy.engine import make_url

from giftcert.embedded.kafka import KAFKA_VERSION
from giftcert.settings import Settings
from giftcert_services.app import SERVICES

ROOT = Path(__file__).parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)["services"]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
GIFTCERT_CONTAINERS = ("migrate", *SERVICES, "api")
KAFKA_NODES = ("kafka-1", "kafka-2", "kafka-3")


def command_line(name: str) -> str:
    spec = COMPOSE[name]
    command = spec["command"] if isinstance(spec["command"], list) else shlex.split(spec["command"])
    return " ".join([*spec.get("entrypoint", ["giftcert"]), *command])


def seconds(duration: str) -> float:
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert "".join(number + unit for number, unit in parts) == duration, f"not a duration: {duration}"
    return sum(float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit] for number, unit in parts)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions = []
    for line in DOCKERFILE.replace("\\\n", " ").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, argument = line.strip().partition(" ")
            instructions.append((keyword.upper(), argument.strip()))
    return instructions


def test_every_service_of_the_cli_runs_in_compose() -> None:
    assert command_line("migrate") == "giftcert db upgrade"
    for name in (*SERVICES, "api"):
        assert command_line(name) == f"giftcert run {name}"


def test_the_api_listens_on_all_interfaces_inside_its_container_and_publishes_its_port() -> None:
    api = COMPOSE["api"]
    assert api["environment"]["GIFTCERT_API_HOST"] == "0.0.0.0"  # noqa: S104 - inside the container
    assert api["environment"]["GIFTCERT_DATABASE_URL"] == COMPOSE["ledger"]["environment"]["GIFTCERT_DATABASE_URL"]
    assert api["ports"] == [f"{api['environment']['GIFTCERT_API_PORT']}:8080"]


def test_every_giftcert_container_runs_the_one_image_built_from_deploy_dockerfile() -> None:
    images = {COMPOSE[name]["image"] for name in GIFTCERT_CONTAINERS}
    assert len(images) == 1
    for name in GIFTCERT_CONTAINERS:
        assert COMPOSE[name]["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}


@pytest.mark.parametrize("name", SERVICES)
def test_workers_wait_for_migrations_and_healthy_backends(name: str) -> None:
    depends = COMPOSE[name]["depends_on"]
    assert depends["migrate"] == {"condition": "service_completed_successfully"}
    for kafka in KAFKA_NODES:
        assert depends[kafka] == {"condition": "service_healthy"}
        assert "kafka-broker-api-versions" in str(COMPOSE[kafka]["healthcheck"]["test"])
    assert depends["postgres"] == {"condition": "service_healthy"}
    assert COMPOSE["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "pg_isready" in str(COMPOSE["postgres"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", SERVICES)
def test_workers_restart_and_outlive_their_graceful_timeout_when_stopped(name: str) -> None:
    spec = COMPOSE[name]
    assert spec["restart"] == "unless-stopped"
    graceful = float(spec["environment"]["GIFTCERT_GRACEFUL_TIMEOUT_SECONDS"])
    assert seconds(spec.get("stop_grace_period", "10s")) > graceful  # 10s: compose's default


def test_the_migration_runs_once() -> None:
    assert COMPOSE["migrate"]["restart"] == "no"
    assert "deploy" not in COMPOSE["migrate"]


@pytest.mark.parametrize("name", KAFKA_NODES)
def test_kafka_runs_in_kraft_mode_from_the_official_image_of_the_version_the_tests_run(name: str) -> None:
    kafka = COMPOSE[name]
    env = kafka["environment"]
    assert kafka["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "ZOOKEEPER" not in str(kafka).upper()
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # the services create theirs
    bootstrap = COMPOSE["ledger"]["environment"]["GIFTCERT_KAFKA_BOOTSTRAP_SERVERS"].split(",")
    [advertised] = env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert advertised.removeprefix("PLAINTEXT://") in bootstrap
    assert env["KAFKA_NODE_ID"] == name.removeprefix("kafka-")
    assert f"{name}-data:{env['KAFKA_LOG_DIRS']}" in kafka["volumes"]  # the image's default dir is under /tmp


def test_three_kafka_nodes_form_one_quorum_and_keep_two_copies_in_sync_of_everything() -> None:
    """What tests/integration/test_kafka_cluster.py proves on the embedded cluster: replication
    factor 3, `min.insync.replicas=2` and producers with acks=all, so one node may be lost."""
    envs = [COMPOSE[name]["environment"] for name in KAFKA_NODES]
    assert len({env["CLUSTER_ID"] for env in envs}) == 1
    voters = {f"{name.removeprefix('kafka-')}@{name}:9093" for name in KAFKA_NODES}
    for env in envs:
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        for topic in ("DEFAULT", "OFFSETS_TOPIC", "TRANSACTION_STATE_LOG", "SHARE_COORDINATOR_STATE_TOPIC"):
            assert env[f"KAFKA_{topic}_REPLICATION_FACTOR"] == "3", topic
        for topic in ("TRANSACTION_STATE_LOG", "SHARE_COORDINATOR_STATE_TOPIC"):
            assert env[f"KAFKA_{topic}_MIN_ISR"] == "2", topic
    giftcert = COMPOSE["ledger"]["environment"]
    assert giftcert["GIFTCERT_TOPIC_REPLICATION_FACTOR"] == "3"
    assert giftcert["GIFTCERT_KAFKA_ACKS"] == "all"
    assert len(giftcert["GIFTCERT_KAFKA_BOOTSTRAP_SERVERS"].split(",")) == len(KAFKA_NODES)


def test_postgres_18_keeps_its_data_on_a_volume() -> None:
    assert COMPOSE["postgres"]["image"] == "postgres:18"
    assert "postgres-data:/var/lib/postgresql" in COMPOSE["postgres"]["volumes"]  # 18's layout, not .../data


def test_mail_goes_to_mailpit() -> None:
    env = COMPOSE["mailer"]["environment"]
    assert COMPOSE["mailpit"]["image"].startswith("axllent/mailpit")
    assert (env["GIFTCERT_SMTP_HOST"], env["GIFTCERT_SMTP_PORT"]) == ("mailpit", "1025")


def test_ledger_runs_two_replicas() -> None:
    assert COMPOSE["ledger"]["deploy"]["replicas"] == 2


@pytest.mark.parametrize("name", GIFTCERT_CONTAINERS)
def test_every_giftcert_setting_in_compose_is_a_real_setting(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = COMPOSE[name]["environment"]
    for key, value in env.items():
        field, *nested = key.removeprefix("GIFTCERT_").lower().split("__")
        assert key.startswith("GIFTCERT_"), key
        assert field in Settings.model_fields, key
        assert not nested or get_origin(Settings.model_fields[field].annotation) is dict, key
        monkeypatch.setenv(key, str(value))
    Settings()  # and every value parses
    assert env["GIFTCERT_KAFKA_ACKS"] == "all"


@pytest.mark.parametrize("name", GIFTCERT_CONTAINERS)
def test_database_url_uses_the_asyncpg_driver(name: str) -> None:
    url = make_url(COMPOSE[name]["environment"]["GIFTCERT_DATABASE_URL"])
    postgres = COMPOSE["postgres"]["environment"]
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port) == ("postgres", 5432)
    assert (url.username, url.password, url.database) == (
        postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"]
    )


def test_the_image_runs_as_a_non_root_user_with_the_giftcert_entrypoint() -> None:
    instructions = dockerfile_instructions()
    final_stage = instructions[max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM") :]
    assert final_stage[0][1].split()[0] == "python:3.11-slim"
    users = [argument.split(":")[0] for keyword, argument in final_stage if keyword == "USER"]
    assert users, "the final stage never leaves root"
    assert users[-1] not in {"root", "0"}
    last = dict(final_stage)  # the last of each instruction is the one that counts
    assert json.loads(last["ENTRYPOINT"]) == ["giftcert"]
    assert json.loads(last["CMD"]) == ["run"]
    assert "giftcert" in PYPROJECT["project"]["scripts"]


def test_the_image_is_built_from_every_packaged_directory_and_the_migrations_ship_in_it() -> None:
    packages = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = {source.rstrip("/") for keyword, argument in dockerfile_instructions() if keyword == "COPY"
              for source in argument.split()[:-1] if not source.startswith("--")}
    ignored = set((ROOT / ".dockerignore").read_text().split())
    for package in packages:
        top = package.split("/")[0]
        assert top in copied, f"{top} is not copied into the image"
        assert top not in ignored, f"{top} is left out of the build context"
    assert any((ROOT / package / "store" / "migrations" / "env.py").is_file() for package in packages)
    assert PYPROJECT["project"]["readme"] in copied - ignored  # hatchling needs it to build


def test_nothing_turns_off_synchronous_commit() -> None:
    for text in (COMPOSE_TEXT, DOCKERFILE):
        assert "synchronous_commit" not in text


def compose_spec_check(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with the compose-spec schema it vendors: no network, no Docker engine."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )


def test_compose_file_is_valid_against_the_compose_spec() -> None:
    checked = compose_spec_check(ROOT / "docker-compose.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_compose_spec_check_refuses_a_misspelt_key(tmp_path: Path) -> None:
    """Else the test above could pass on anything."""
    broken = yaml.safe_load(COMPOSE_TEXT)
    broken["services"]["ledger"]["stop_grace_periods"] = broken["services"]["ledger"].pop("stop_grace_period", "45s")
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    checked = compose_spec_check(path)
    assert checked.returncode == 1
    assert "stop_grace_periods" in checked.stdout
