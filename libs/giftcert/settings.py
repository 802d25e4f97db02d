"""Process settings, read from `GIFTCERT_*` environment variables.

Every topic name is a setting: `GIFTCERT_TOPIC_PREFIX` (default `giftcert.`) + the contract's base
name, unless `GIFTCERT_TOPIC_NAMES__<BASE_NAME>` (e.g. `GIFTCERT_TOPIC_NAMES__PAYMENT_COMPLETED`)
names the topic outright, so an operator can point the service at the payment system's own topic.
"""

import ipaddress
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from giftcert.domain.guessing import GuessingLimit
from giftcert.mail.compose import sender
from giftcert.mail.smtp import SmtpSecurity
from giftcert_contracts.topics import DEAD_LETTER_SUFFIX, Topic


class Settings(BaseSettings):
    # hide_input_in_errors: a refused combination would otherwise print every setting, passwords included
    model_config = SettingsConfigDict(env_prefix="GIFTCERT_", env_nested_delimiter="__", hide_input_in_errors=True)

    database_url: str = "postgresql+asyncpg://postgres@localhost:5432/giftcert"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # producer acknowledgements as Kafka names them: `all` (the replicas in sync), `1` (the leader) or
    # `0` (none); anything else is refused at start (aiokafka takes `all` or a number: producer_acks)
    kafka_acks: Literal["all", "1", "0"] = "all"
    # how long the broker may hold a consumer's fetch when nothing is new; Kafka answers as soon as
    # data arrives, so 500 (Kafka's default) costs nothing there. The embedded Tansu broker holds the
    # fetch (up to ~250 ms) even when data arrives: `giftcert dev` and the demo use
    # EMBEDDED_FETCH_MAX_WAIT_MS instead (giftcert.embedded.broker), the benchmark its own.
    kafka_fetch_max_wait_ms: int = Field(default=500, ge=1, le=60_000)
    kafka_request_timeout_ms: int = Field(default=40_000, ge=1_000, le=600_000)  # aiokafka's default
    # how old a Kafka client's map of partition leaders may grow before it asks again. aiokafka 0.14
    # asks again after most leader errors, but not when a consumer looks up where to start reading a
    # partition just assigned to it (no committed offset yet): that lookup retries the old leader until
    # the next periodic refresh, and Kafka's default of 5 minutes left a consumer idle that long after a
    # failover (decision 30). A metadata request every few seconds per client costs the cluster little.
    kafka_metadata_max_age_ms: int = Field(default=5_000, ge=500, le=300_000)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_check_hostname: bool = True
    topic_retention_ms: int = Field(default=7 * 24 * 3600 * 1000, ge=-1)  # -1: kept for ever
    dead_letter_retention_ms: int = Field(default=30 * 24 * 3600 * 1000, ge=-1)
    topic_cleanup_policy: Literal["delete", "compact"] = "delete"

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Self:
        """A half-configured connection would fail at the broker with an obscure handshake or
        authentication error, or silently ignore a setting; refuse it at start instead, by name."""
        sasl = self.kafka_security_protocol.startswith("SASL_")
        tls = self.kafka_security_protocol.endswith("SSL")
        if sasl:
            missing = [
                f"GIFTCERT_KAFKA_SASL_{name.upper()}"
                for name, value in (
                    ("mechanism", self.kafka_sasl_mechanism),
                    ("username", self.kafka_sasl_username),
                    ("password", self.kafka_sasl_password),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"GIFTCERT_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs {', '.join(missing)}"
                )
        elif self.kafka_sasl_mechanism or self.kafka_sasl_username or self.kafka_sasl_password:
            raise ValueError(
                "GIFTCERT_KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD are only used with "
                f"GIFTCERT_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT or SASL_SSL, not {self.kafka_security_protocol}"
            )
        if not tls and (self.kafka_ssl_cafile or self.kafka_ssl_certfile or self.kafka_ssl_keyfile):
            raise ValueError(
                "GIFTCERT_KAFKA_SSL_CAFILE, _CERTFILE and _KEYFILE are only used with "
                f"GIFTCERT_KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL, not {self.kafka_security_protocol}"
            )
        if self.kafka_ssl_keyfile and not self.kafka_ssl_certfile:
            raise ValueError("GIFTCERT_KAFKA_SSL_KEYFILE needs GIFTCERT_KAFKA_SSL_CERTFILE (the client certificate)")
        return self

    topic_prefix: str = "giftcert."
    topic_names: dict[str, str] = Field(default_factory=dict)
    topic_partitions: int = 3
    topic_replication_factor: int = 1
    consumer_group_prefix: str = "giftcert."
    event_source: str = "urn:giftcert"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: SmtpSecurity = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_connections: int = Field(default=4, ge=1, le=64)  # the mailer's connections, used side by side
    mail_from: str = "Gift certificates <giftcerts@example.com>"

    @field_validator("mail_from")
    @classmethod
    def _mail_from_names_an_address(cls, value: str) -> str:
        """Refused at start, not on every email (each would be dead-lettered)."""
        sender(value)
        return value

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=0, le=65535)
    # The proxies in front of the API (addresses or networks, comma-separated) whose X-Forwarded-For
    # names the visitor: the per-address limits (portal purchases, the balance page's guesses) count
    # that visitor, not the proxy. Empty: the header is ignored and the connection's address counts,
    # so a visitor cannot name themselves someone else.
    api_trusted_proxies: str = ""

    @field_validator("api_trusted_proxies")
    @classmethod
    def _trusted_proxies_are_addresses_or_networks(cls, value: str) -> str:
        for entry in (part.strip() for part in value.split(",")):
            if not entry:
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"GIFTCERT_API_TRUSTED_PROXIES: {entry!r} is neither an IP address nor a network (10.0.0.0/8)"
                ) from None
        return value
    # each worker process's /healthz, /readyz and /metrics; port 0: no such server
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=9100, ge=0, le=65535)
    status_gauge_seconds: float = Field(default=60.0, gt=0)  # how often the scheduler counts certificates

    expiry_tick_seconds: float = 3600.0
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)  # messages a batch subscriber takes at once
    # the documents and mailer workers: each message holds a PDF in memory, and an email to send
    delivery_batch_size: int = Field(default=100, ge=1, le=10_000)
    consumer_batch_wait_ms: int = Field(default=5, ge=1, le=10_000)  # how long an idle batch subscriber waits
    relay_poll_seconds: float = 0.25  # the relay's poll when no outbox notification wakes it first
    relay_batch_size: int = 500
    expiry_batch_size: int = Field(default=1000, ge=1)
    # certificates a tick expires (or reminds of) a second at most, to leave checkout its share; 0: no limit
    expiry_rate_per_second: float = Field(default=0.0, ge=0)
    payment_grace_seconds: float = Field(default=600.0, ge=0)
    redeem_failure_limit: int = Field(default=5, ge=1)
    redeem_failure_window_seconds: float = Field(default=600.0, gt=0)
    redeem_workspace_failure_limit: int = Field(default=100, ge=1)
    # how long idempotency keys (inbox, HTTP request keys) are kept before the scheduler prunes them
    dedupe_days: float = Field(default=35.0, gt=0)
    prune_interval_seconds: float = Field(default=3600.0, gt=0)
    prune_batch_size: int = Field(default=5000, ge=1)
    retry_initial_seconds: float = 0.2
    retry_max_seconds: float = 10.0
    handler_max_attempts: int = 5
    graceful_timeout_seconds: float = 30.0
    var_dir: Path = Path("var")

    # unset: JSON lines for `giftcert run`, human text for `giftcert dev` and `giftcert demo`
    log_format: Literal["json", "text"] | None = None
    # the OTLP/HTTP collector, e.g. http://otel-collector:4318 (spans go to <endpoint>/v1/traces); unset,
    # with OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_TRACES_ENDPOINT unset too: no tracing
    otel_endpoint: str | None = None

    @property
    def producer_acks(self) -> Literal["all", 0, 1]:
        """GIFTCERT_KAFKA_ACKS as aiokafka's producer takes it (a number, unless `all`)."""
        return "all" if self.kafka_acks == "all" else 1 if self.kafka_acks == "1" else 0

    @property
    def guessing_limit(self) -> GuessingLimit:
        return GuessingLimit(
            self.redeem_failure_limit,
            timedelta(seconds=self.redeem_failure_window_seconds),
            self.redeem_workspace_failure_limit,
        )

    def topic(self, base: Topic) -> str:
        override = self.topic_names.get(base.name.lower()) or self.topic_names.get(base.name)
        return override or f"{self.topic_prefix}{base.value}"

    def dead_letter_topic(self, base: Topic) -> str:
        return f"{self.topic(base)}{DEAD_LETTER_SUFFIX}"

    def group_id(self, service: str, base: Topic) -> str:
        return f"{self.consumer_group_prefix}{service}.{base.value}"

    @cached_property
    def base_topic_by_name(self) -> dict[str, Topic]:
        return {self.topic(t): t for t in Topic}
