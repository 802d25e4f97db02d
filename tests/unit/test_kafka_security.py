"""Kafka security settings reach every client: the FastStream broker (its producer and consumers) and
the raw aiokafka clients get the same protocol, SASL mechanism, credentials and TLS context; PLAINTEXT
changes nothing; half-configured combinations are refused by name, without printing the password.

The TLS contexts are proven with a real handshake against a throwaway CA made by `openssl`."""

import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError

from giftcert.settings import Settings
from giftcert_services.runtime.broker import build_broker
from giftcert_services.runtime.kafka_security import aiokafka_options, faststream_security

SECURITY_KEYS = ("security_protocol", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password", "ssl_context")
PASSWORD = "s3cret-pa55"  # noqa: S105 - a test credential


class ThrowawayPki:
    """A CA, a server certificate for localhost and a client certificate, all signed by the CA."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_cert = folder / "ca.pem"
        self.server_cert, self.server_key = folder / "server.pem", folder / "server.key"
        self.client_cert, self.client_key = folder / "client.pem", folder / "client.key"
        ca_key = folder / "ca.key"
        self._openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", self.ca_cert,
            "-days", "1", "-subj", "/CN=giftcert test CA",
        )
        self._issue("localhost", self.server_cert, self.server_key, ca_key, "subjectAltName=DNS:localhost")
        self._issue("giftcert-client", self.client_cert, self.client_key, ca_key, "extendedKeyUsage=clientAuth")

    def _issue(self, common_name: str, cert: Path, key: Path, ca_key: Path, extension: str) -> None:
        request = self.folder / f"{common_name}.csr"
        extensions = self.folder / f"{common_name}.ext"
        extensions.write_text(extension + "\n")
        self._openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", f"/CN={common_name}"
        )
        self._openssl(
            "x509", "-req", "-in", request, "-CA", self.ca_cert, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "1", "-extfile", extensions,
        )

    def _openssl(self, *arguments: str | Path) -> None:
        subprocess.run(  # fixed arguments, our own temporary files
            ["openssl", *map(str, arguments)], check=True, capture_output=True, cwd=self.folder
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPki:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no throwaway CA for the TLS tests")
    return ThrowawayPki(tmp_path_factory.mktemp("pki"))


def security_of(options: dict[str, Any]) -> dict[str, Any]:
    return {key: options.get(key) for key in SECURITY_KEYS}


def broker_client_options(settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """What FastStream 0.7 hands to aiokafka: the producer's (and admin's) keyword arguments, kept as
    the broker's connection kwargs, and the consumers', bound into the consumer builder."""
    broker = build_broker(settings)
    producer = broker._connection_kwargs  # FastStream keeps them there, with no public view
    consumer = broker.config.broker_config.builder.keywords
    return security_of(producer), security_of(consumer)


def handshake(client_context: ssl.SSLContext, pki: ThrowawayPki, *, require_client_cert: bool) -> str | None:
    """A TLS handshake over a socket pair against a server with the throwaway certificate for
    localhost; the common name of the client certificate the server saw, if any."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki.server_cert, pki.server_key)
    if require_client_cert:
        server_context.verify_mode = ssl.CERT_REQUIRED
        server_context.load_verify_locations(pki.ca_cert)
    server_side, client_side = socket.socketpair()
    seen: dict[str, Any] = {}

    def serve() -> None:
        try:
            with server_context.wrap_socket(server_side, server_side=True) as tls:
                seen["peer"] = tls.getpeercert()
        except (ssl.SSLError, OSError) as error:
            seen["error"] = error

    server = threading.Thread(target=serve)
    server.start()
    try:
        with client_context.wrap_socket(client_side, server_hostname="localhost"):
            pass
    finally:
        server.join(10)
    if "error" in seen:
        raise seen["error"]
    peer = seen.get("peer")
    if not peer:
        return None
    return str(dict(entry[0] for entry in peer["subject"])["commonName"])


def sasl_settings(protocol: str, mechanism: str, **more: Any) -> Settings:
    return Settings(
        kafka_security_protocol=protocol, kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="giftcert", kafka_sasl_password=PASSWORD, **more,
    )


def test_plaintext_by_default_leaves_the_clients_as_they_were() -> None:
    settings = Settings()
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert faststream_security(settings) is None
    assert aiokafka_options(settings) == {}
    producer, consumer = broker_client_options(settings)
    assert producer["security_protocol"] is None  # not passed: aiokafka's own default, PLAINTEXT
    assert producer == consumer == dict.fromkeys(SECURITY_KEYS)
    assert build_broker(settings).specification.security is None


@pytest.mark.parametrize(
    ("mechanism", "security_type"),
    [("PLAIN", SASLPlaintext), ("SCRAM-SHA-256", SASLScram256), ("SCRAM-SHA-512", SASLScram512)],
)
def test_sasl_plaintext_reaches_the_broker_and_the_raw_clients(mechanism: str, security_type: type) -> None:
    settings = sasl_settings("SASL_PLAINTEXT", mechanism)
    assert type(faststream_security(settings)) is security_type
    expected = {
        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": mechanism,
        "sasl_plain_username": "giftcert", "sasl_plain_password": PASSWORD, "ssl_context": None,
    }
    producer, consumer = broker_client_options(settings)
    assert producer == consumer == expected
    assert security_of(aiokafka_options(settings)) == expected


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_ssl_reaches_the_broker_and_the_raw_clients_with_the_ca_file(mechanism: str, pki: ThrowawayPki) -> None:
    settings = sasl_settings("SASL_SSL", mechanism, kafka_ssl_cafile=pki.ca_cert)
    producer, consumer = broker_client_options(settings)
    raw = security_of(aiokafka_options(settings))
    for options in (producer, consumer, raw):
        assert options["security_protocol"] == "SASL_SSL"
        assert options["sasl_mechanism"] == mechanism
        assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("giftcert", PASSWORD)
        context = options["ssl_context"]
        assert isinstance(context, ssl.SSLContext)
        assert [dict(entry[0] for entry in ca["subject"]) for ca in context.get_ca_certs()] == [
            {"commonName": "giftcert test CA"}
        ]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname
    assert producer["ssl_context"] is consumer["ssl_context"]  # one security object for the broker
    assert handshake(raw["ssl_context"], pki, require_client_cert=False) is None


def test_ssl_with_a_client_certificate_authenticates_with_it(pki: ThrowawayPki) -> None:
    settings = Settings(
        kafka_security_protocol="SSL", kafka_ssl_cafile=pki.ca_cert,
        kafka_ssl_certfile=pki.client_cert, kafka_ssl_keyfile=pki.client_key,
    )
    security = faststream_security(settings)
    assert type(security) is BaseSecurity
    producer, consumer = broker_client_options(settings)
    raw = security_of(aiokafka_options(settings))
    for options in (producer, consumer, raw):
        assert options["security_protocol"] == "SSL"
        assert options["sasl_mechanism"] is None
        assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert parse_security(security)["ssl_context"] is security.ssl_context  # type: ignore[union-attr]
    assert handshake(producer["ssl_context"], pki, require_client_cert=True) == "giftcert-client"
    assert handshake(raw["ssl_context"], pki, require_client_cert=True) == "giftcert-client"


def test_a_server_outside_the_ca_file_is_refused(pki: ThrowawayPki, tmp_path: Path) -> None:
    other = ThrowawayPki(tmp_path)
    context = aiokafka_options(Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=other.ca_cert))["ssl_context"]
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(context, pki, require_client_cert=False)


def test_hostname_checking_can_be_turned_off_but_not_certificate_checking(pki: ThrowawayPki) -> None:
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=pki.ca_cert, kafka_ssl_check_hostname=False)
    context = aiokafka_options(settings)["ssl_context"]
    assert context.check_hostname is False
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_ssl_without_a_ca_file_trusts_the_system_store() -> None:
    context = aiokafka_options(Settings(kafka_security_protocol="SSL"))["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


@pytest.mark.parametrize(
    ("settings", "needs"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "GIFTCERT_KAFKA_SASL_MECHANISM, GIFTCERT_KAFKA_SASL_USERNAME"),
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "PLAIN", "kafka_sasl_username": "u"},
            "needs GIFTCERT_KAFKA_SASL_PASSWORD",
        ),
        (
            {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "PLAIN", "kafka_sasl_password": "p"},
            "needs GIFTCERT_KAFKA_SASL_USERNAME",
        ),
        ({"kafka_sasl_mechanism": "SCRAM-SHA-256"}, "only used with GIFTCERT_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT"),
        (
            {"kafka_security_protocol": "SSL", "kafka_sasl_mechanism": "PLAIN", "kafka_sasl_username": "u",
             "kafka_sasl_password": "p"},
            "not SSL",
        ),
        ({"kafka_ssl_cafile": "/etc/ca.pem"}, "only used with GIFTCERT_KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_keyfile": "/etc/key.pem"}, "needs GIFTCERT_KAFKA_SSL_CERTFILE"),
    ],
)
def test_incomplete_or_contradictory_combinations_are_refused_by_name(settings: dict[str, Any], needs: str) -> None:
    with pytest.raises(ValidationError, match=needs):
        Settings(**settings)


@pytest.mark.parametrize(
    ("name", "value"), [("KAFKA_SECURITY_PROTOCOL", "SASL"), ("KAFKA_SASL_MECHANISM", "GSSAPI")]
)
def test_unknown_protocols_and_mechanisms_are_refused(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"GIFTCERT_{name}", value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()


def test_a_refusal_never_shows_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIFTCERT_KAFKA_SASL_USERNAME", "giftcert")
    monkeypatch.setenv("GIFTCERT_KAFKA_SASL_PASSWORD", PASSWORD)
    with pytest.raises(ValidationError) as refused:
        Settings()  # credentials without SASL_*
    assert PASSWORD not in str(refused.value)
    assert PASSWORD not in repr(refused.value)


def test_settings_from_the_environment_reach_the_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
        "KAFKA_SASL_USERNAME": "giftcert", "KAFKA_SASL_PASSWORD": PASSWORD,
    }.items():
        monkeypatch.setenv(f"GIFTCERT_{name}", value)
    settings = Settings()
    assert PASSWORD not in repr(settings)
    assert aiokafka_options(settings)["sasl_plain_password"] == PASSWORD


async def test_the_raw_aiokafka_clients_accept_the_options(pki: ThrowawayPki) -> None:
    """aiokafka checks the combination when a client is made (e.g. SSL needs a context); nothing connects."""
    for settings in (
        sasl_settings("SASL_SSL", "SCRAM-SHA-512", kafka_ssl_cafile=pki.ca_cert),
        sasl_settings("SASL_PLAINTEXT", "PLAIN"),
        Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=pki.ca_cert),
    ):
        options = aiokafka_options(settings)
        admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:1", **options)
        producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", **options)
        consumer = AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", **options)
        assert admin._client._security_protocol == settings.kafka_security_protocol
        assert producer.client._security_protocol == settings.kafka_security_protocol
        assert consumer._client._security_protocol == settings.kafka_security_protocol
        await producer.stop()
        await consumer.stop()
        await admin.close()
