"""Our own start of Apache Kafka takes any cluster id Kafka's format tool would: one of 64 random
ids starts with "-", which a command line reads as an option unless it is joined to its name."""

from pathlib import Path

import pytest

from giftcert.embedded import kafka
from tests.stack import running_cluster

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DASH_LEADING_ID = "-AAAAAAAAAAAAAAAAAAAAA"  # 22 characters of base64url, as a UUID makes


def test_a_cluster_id_that_starts_with_a_dash_still_formats_and_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka, "_cluster_id", lambda: DASH_LEADING_ID)
    with running_cluster(tmp_path, nodes=1) as node:
        assert node.bootstrap_servers
        assert f"cluster.id={DASH_LEADING_ID}" in (node.nodes[0].folder / "data" / "meta.properties").read_text()

