"""A cluster id we draw is one Kafka's own tool would draw: never one that starts with "-"."""

import uuid

import pytest

from giftcert.embedded import kafka


def test_a_drawn_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([uuid.UUID(bytes=b"\xf8" + bytes(15)), uuid.UUID(bytes=b"\x01" + bytes(15))])
    monkeypatch.setattr(kafka.uuid, "uuid4", lambda: next(draws))
    assert kafka._cluster_id() == "AQAAAAAAAAAAAAAAAAAAAA"
