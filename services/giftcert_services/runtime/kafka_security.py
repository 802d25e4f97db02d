"""How every Kafka client of the service authenticates and encrypts, from `GIFTCERT_KAFKA_*` settings.

The FastStream broker takes a security object; the raw aiokafka clients (the topic admin, the
integrator's producer and consumer) take keyword arguments. Both come from here, and the keyword
arguments are FastStream's own translation of the same object (`parse_security`), so the broker and
the raw clients cannot drift apart. Settings have refused incomplete combinations already
(`Settings._kafka_security_is_complete`)."""

import ssl
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from giftcert.settings import Settings

SASL_BY_MECHANISM: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """The system's trusted CAs, or only `kafka_ssl_cafile` when set (a private CA); the client
    certificate when the broker asks for one (mutual TLS)."""
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(
            str(settings.kafka_ssl_certfile),
            str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        )
    context.check_hostname = settings.kafka_ssl_check_hostname
    return context


def faststream_security(settings: Settings) -> BaseSecurity | None:
    """None for PLAINTEXT: the broker is built exactly as before these settings existed."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings) if protocol in {"SSL", "SASL_SSL"} else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context)
    mechanism, username, password = (
        settings.kafka_sasl_mechanism, settings.kafka_sasl_username, settings.kafka_sasl_password
    )
    if mechanism is None or username is None or password is None:  # Settings refuse this; for the type checker
        raise ValueError(f"GIFTCERT_KAFKA_SECURITY_PROTOCOL={protocol} needs a SASL mechanism, username and password")
    # FastStream derives SASL_SSL or SASL_PLAINTEXT from use_ssl
    return SASL_BY_MECHANISM[mechanism](
        username, password.get_secret_value(), ssl_context=context, use_ssl=context is not None
    )


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `AIOKafkaAdminClient`, `AIOKafkaProducer` and `AIOKafkaConsumer`:
    security_protocol, ssl_context and, with SASL, sasl_mechanism, sasl_plain_username and
    sasl_plain_password. Empty for PLAINTEXT, so aiokafka's defaults apply as before."""
    return parse_security(faststream_security(settings))
