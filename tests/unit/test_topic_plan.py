"""The topic plan that `ensure_topics` and `giftcert topics create` share: every topic of the contract
and a dead-letter topic for every topic a subscriber reads, with partitions, replication, retention and
cleanup policy from settings; dead letters kept longer and never compacted."""

import json

import pytest
from typer.testing import CliRunner

from giftcert.settings import Settings
from giftcert_contracts.topics import DEAD_LETTER_SUFFIX, Topic
from giftcert_services.app import build_app
from giftcert_services.cli.main import app as cli
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.runtime.topics import topic_names, topic_plan

DAY_MS = 24 * 3600 * 1000


def subscribed_topics(settings: Settings) -> set[str]:
    """What the services' subscribers read, asked from the FastStream app itself (no connection made)."""
    broker = build_app(bootstrap(settings)).broker
    return {topic.name for subscriber in broker.subscribers for topic in subscriber.topics}


def test_every_topic_of_the_contract_and_a_dead_letter_topic_for_every_consumed_topic() -> None:
    settings = Settings()
    names = [spec.name for spec in topic_plan(settings)]
    assert len(names) == len(set(names))
    assert {settings.topic(topic) for topic in Topic} <= set(names)
    dead_letter_topics = {name for name in names if name.endswith(DEAD_LETTER_SUFFIX)}
    assert {f"{name}{DEAD_LETTER_SUFFIX}" for name in subscribed_topics(settings)} == dead_letter_topics
    assert topic_names(settings) == names


def test_defaults_keep_events_a_week_and_dead_letters_a_month() -> None:
    for spec in topic_plan(Settings()):
        assert (spec.partitions, spec.replication_factor) == (3, 1)
        assert spec.configs["cleanup.policy"] == "delete"
        assert spec.configs["retention.ms"] == str((30 if spec.dead_letters else 7) * DAY_MS)
        assert spec.dead_letters == spec.name.endswith(DEAD_LETTER_SUFFIX)


def test_settings_are_respected_and_dead_letters_stay_deleted_not_compacted() -> None:
    settings = Settings(
        topic_prefix="shop.", topic_names={"payment_completed": "payments.completed"},
        topic_partitions=12, topic_replication_factor=3, topic_retention_ms=DAY_MS,
        dead_letter_retention_ms=90 * DAY_MS, topic_cleanup_policy="compact",
    )
    plan = {spec.name: spec for spec in topic_plan(settings)}
    assert "payments.completed" in plan
    assert f"payments.completed{DEAD_LETTER_SUFFIX}" in plan
    assert all(name.startswith(("shop.", "payments.")) for name in plan)
    for spec in plan.values():
        assert (spec.partitions, spec.replication_factor) == (12, 3)
        if spec.dead_letters:
            assert spec.configs == {"retention.ms": str(90 * DAY_MS), "cleanup.policy": "delete"}
        else:
            assert spec.configs == {"retention.ms": str(DAY_MS), "cleanup.policy": "compact"}


def test_dead_letters_are_kept_longer_than_events_by_default() -> None:
    settings = Settings()
    assert settings.dead_letter_retention_ms > settings.topic_retention_ms


def test_new_topics_carry_the_plan() -> None:
    spec = topic_plan(Settings(topic_partitions=5))[0]
    new_topic = spec.new_topic()
    assert (new_topic.name, new_topic.num_partitions, new_topic.replication_factor) == (spec.name, 5, 1)
    assert new_topic.topic_configs == spec.configs


def test_plan_prints_a_table_and_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIFTCERT_TOPIC_PREFIX", "plan.")
    monkeypatch.setenv("GIFTCERT_TOPIC_RETENTION_MS", str(36 * 3600 * 1000))
    table = CliRunner().invoke(cli, ["topics", "plan"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["topic", "partitions", "replication", "retention", "cleanup"]
    assert lines[1].split() == ["plan.purchase-requested", "3", "1", "36h", "delete"]
    assert f"plan.purchase-requested{DEAD_LETTER_SUFFIX}" in table.stdout
    assert len(lines) == 1 + len(topic_plan(Settings()))

    as_json = CliRunner().invoke(cli, ["topics", "plan", "--json"])
    assert as_json.exit_code == 0, as_json.output
    planned = json.loads(as_json.stdout)
    assert [topic["name"] for topic in planned] == topic_names(Settings())
    assert planned[0]["configs"] == {"retention.ms": str(36 * 3600 * 1000), "cleanup.policy": "delete"}


def test_refused_settings_are_reported_in_a_line_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIFTCERT_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("GIFTCERT_KAFKA_SASL_PASSWORD", "do-not-print-me")
    result = CliRunner().invoke(cli, ["topics", "plan"])
    assert result.exit_code == 1
    assert "GIFTCERT_KAFKA_SASL_MECHANISM" in result.stderr
    assert "do-not-print-me" not in result.output
