"""The service's own Prometheus metrics, defined once, here. Every process has the default registry;
a worker process serves it at `/metrics` of its health server (services/giftcert_services/runtime/
health.py), the API process at its own `/metrics`.

Labels are bounded and harmless: base topic names (the contract's, whatever the deployment's prefix),
outcomes and refusal reasons, statuses, workspace ids, error types. Never a code, an email or any other
customer value. Counters are named without `_total`: prometheus_client adds it."""

from prometheus_client import Counter, Gauge, Histogram

REDEMPTIONS_THROTTLED = Counter(
    "giftcert_redemptions_throttled",
    "Redemption attempts refused as too_many_attempts before any certificate was looked up, by the "
    "limit that refused them (order or workspace).",
    ["scope"],
)

REDEMPTIONS = Counter(
    "giftcert_redemptions",
    "First decisions on redemption requests, by outcome: redeemed, or the refusal's reason (not_found, "
    "too_many_attempts, expired...). A repeated request gets its stored decision again and is not counted.",
    ["outcome"],
)

MESSAGES = Counter(
    "giftcert_messages",
    "Inbound messages by base topic and by what became of them: handled (offset committed after the "
    "handler's commit), retried (one count per retry of a failed attempt), dead_lettered.",
    ["topic", "outcome"],
)
HANDLED, RETRIED, DEAD_LETTERED = "handled", "retried", "dead_lettered"

HANDLER_SECONDS = Histogram(
    "giftcert_handler_seconds",
    "Time of one handler attempt (decode, validation, the rule and its database commit), by base topic.",
    ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

DEAD_LETTERS = Counter(
    "giftcert_dead_letters",
    "Messages published to `<topic>.dlq`, by base topic and error_type (undecodable_json, "
    "validation_error, or the exception's class name).",
    ["topic", "error_type"],
)

OUTBOX_BACKLOG = Gauge(
    "giftcert_outbox_backlog",
    "Outbox rows not yet published, as the relay last counted them (every few seconds).",
)
OUTBOX_OLDEST_AGE = Gauge(
    "giftcert_outbox_oldest_age_seconds",
    "Age of the oldest outbox row not yet published; 0 when the outbox is empty.",
)

CERTIFICATES = Gauge(
    "giftcert_certificates",
    "Certificates by workspace and status, as the scheduler last counted them (every "
    "GIFTCERT_STATUS_GAUGE_SECONDS).",
    ["workspace", "status"],
)

CONSUMER_LAG = Gauge(
    "giftcert_consumer_lag",
    "Messages in a partition not yet taken by this process's consumer (the broker's high watermark "
    "minus the consumer's position), refreshed on every scrape of /metrics.",
    ["group", "topic", "partition"],
)
