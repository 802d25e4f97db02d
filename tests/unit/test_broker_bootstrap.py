"""GIFTCERT_KAFKA_BOOTSTRAP_SERVERS names every node of a cluster (compose and k8s name three): the
services' broker hands aiokafka one address per node, not one string it would try as a single host."""

from giftcert.settings import Settings
from giftcert_services.runtime.broker import build_broker


def test_a_comma_separated_bootstrap_list_reaches_the_client_as_one_address_per_node() -> None:
    settings = Settings(kafka_bootstrap_servers="kafka-1:9092, kafka-2:9092,kafka-3:9092")
    broker = build_broker(settings)
    given = broker._connection_kwargs["bootstrap_servers"]  # what FastStream passes to aiokafka's clients
    assert given == ["kafka-1:9092", "kafka-2:9092", "kafka-3:9092"]
