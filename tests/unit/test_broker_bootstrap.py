"""GIFTCERT_KAFKA_BOOTSTRAP_SERVERS names every node of a cluster (compose and k8s name three): the
services' broker hands aiokafka one address per node, not one string it would try as a single host;
GIFTCERT_KAFKA_ACKS reaches it as a number (or `all`)."""

import pytest

from giftcert.settings import Settings
from giftcert_services.runtime.broker import build_broker


def test_a_comma_separated_bootstrap_list_reaches_the_client_as_one_address_per_node() -> None:
    settings = Settings(kafka_bootstrap_servers="kafka-1:9092, kafka-2:9092,kafka-3:9092")
    broker = build_broker(settings)
    given = broker._connection_kwargs["bootstrap_servers"]  # what FastStream passes to aiokafka's clients
    assert given == ["kafka-1:9092", "kafka-2:9092", "kafka-3:9092"]


def test_the_producer_acknowledgements_reach_aiokafka_as_it_takes_them_and_others_are_refused() -> None:
    taken = {acks: build_broker(Settings(kafka_acks=acks))._connection_kwargs["acks"] for acks in ("all", "1", "0")}
    assert taken == {"all": "all", "1": 1, "0": 0}  # aiokafka refuses the string "1"
    with pytest.raises(ValueError, match="kafka_acks"):
        Settings(kafka_acks="2")  # type: ignore[arg-type]
