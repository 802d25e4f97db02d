"""docs/asyncapi.yaml is what the services generate, and it documents every topic of the contract."""

from pathlib import Path
from urllib.parse import unquote

import yaml

from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.app import asyncapi_document

COMMITTED = Path(__file__).parents[2] / "docs" / "asyncapi.yaml"


def test_the_committed_asyncapi_document_is_current() -> None:
    assert COMMITTED.read_text() == asyncapi_document(), "docs/asyncapi.yaml is stale: run `make asyncapi`"


def test_the_document_lists_every_inbound_topic_as_received_and_every_event_as_sent() -> None:
    document = yaml.safe_load(COMMITTED.read_text())
    addresses = {name: channel["address"] for name, channel in document["channels"].items()}

    def topics(action: str) -> set[str]:
        return {
            addresses[unquote(operation["channel"]["$ref"].rsplit("/", 1)[-1])]
            for operation in document["operations"].values() if operation["action"] == action
        }

    received, sent = topics("receive"), topics("send")
    assert {f"giftcert.{t.value}" for t in INBOUND_TOPICS} <= received
    assert {f"giftcert.{t.value}" for t in Topic if t not in INBOUND_TOPICS} <= sent
