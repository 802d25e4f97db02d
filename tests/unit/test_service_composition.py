"""Which service reads which inbound topic: each by exactly one service, in a consumer group named
after that service and the topic; the expiry ticks by the expiry service alone, so a tick's batches
never run in the event loop that decides the redemptions (decision 16). Asked from the FastStream
apps themselves; no connection is made."""

from giftcert.settings import Settings
from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.app import SERVICES, build_app
from giftcert_services.runtime.bootstrap import bootstrap

SETTINGS = Settings()


def groups_of(service: str) -> dict[str, str]:
    """The topics the service's subscribers read, each with its consumer group."""
    broker = build_app(bootstrap(SETTINGS), (service,)).broker
    return {
        topic.name: str(subscriber.group_id) for subscriber in broker.subscribers for topic in subscriber.topics
    }


def test_each_inbound_topic_is_read_by_exactly_one_service_in_a_group_of_its_own() -> None:
    inbound = {SETTINGS.topic(topic): topic for topic in INBOUND_TOPICS}
    readers: dict[str, list[str]] = {}
    for service in SERVICES:
        for name, group in groups_of(service).items():
            if name in inbound:
                readers.setdefault(name, []).append(service)
                assert group == SETTINGS.group_id(service, inbound[name])
    assert readers.keys() == inbound.keys()
    assert all(len(services) == 1 for services in readers.values()), readers


def test_expiry_ticks_are_read_by_the_expiry_service_and_never_by_the_ledger() -> None:
    assert groups_of("expiry") == {SETTINGS.topic(Topic.EXPIRY_TICK): "giftcert.expiry.expiry-tick"}
    assert SETTINGS.topic(Topic.EXPIRY_TICK) not in groups_of("ledger")
    assert set(groups_of("ledger")) == {SETTINGS.topic(t) for t in INBOUND_TOPICS if t is not Topic.EXPIRY_TICK}
