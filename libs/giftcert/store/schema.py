"""The certificate store's tables. Alembic migrations (./migrations) create them; this module is
what the code queries through. Keep the two in step: tests/integration/test_migrations.py checks.

Value is a ledger: `ledger_entries` holds signed amounts (issued +, redeemed -; later reversed,
adjusted) with one row per (certificate, request) for every debit, so partial redemption adds rows
rather than a rewrite.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    and_,
    false,
    literal_column,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from giftcert.domain.certificate import Status
from giftcert_contracts.topics import CHECKOUT_REPLY_TOPICS

metadata = MetaData()


def _timestamp(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("portal_enabled", Boolean, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("min_minor", BigInteger, nullable=False),
    Column("max_minor", BigInteger, nullable=False),
    Column("expiry_days", Integer, nullable=False),
    Column("reminder_days", Integer, nullable=False),
    Column("send_activation_email", Boolean, nullable=False, server_default=true()),
    Column("redemption_mode", String(16), nullable=False, server_default="full"),
    Column("hold_seconds_default", Integer, nullable=False, server_default="900"),
    Column("hold_seconds_max", Integer, nullable=False, server_default="86400"),
    Column("refund_validity_days", Integer, nullable=False, server_default="90"),
    Column("pending_days", Integer, nullable=False, server_default="0"),
    Column("locale", String(35), nullable=False, server_default="en"),
    Column("remaining_balance_email", Boolean, nullable=False, server_default=false()),
    _timestamp("created_at", nullable=False),
    _timestamp("updated_at", nullable=False),
)

certificates = Table(
    "certificates",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("code", String(12), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("segment", String(64)),
    Column("purchaser_name", String(200), nullable=False),
    Column("purchaser_email", String(320), nullable=False),
    Column("recipient_name", String(200), nullable=False),
    Column("recipient_email", String(320), nullable=False),
    Column("message", String(500)),
    Column("expiry_days", Integer, nullable=False),
    Column("payment_id", String(128)),
    _timestamp("created_at", nullable=False),
    _timestamp("activated_at"),
    _timestamp("expires_at"),
    _timestamp("redeemed_at"),
    _timestamp("voided_at"),
    _timestamp("expired_at"),
    _timestamp("expiring_soon_notified_at"),
    Column("product_id", Uuid),
    Column("balance_minor", BigInteger),
    # NULL on rows from before migration 0011: v1's status says the balance (store/certificates.py)
    Column("locale", String(35)),
    Column("kind", String(16), nullable=False, server_default="purchased"),
    Column("replaces_order_id", String(128)),
    UniqueConstraint("workspace_id", "code", name="certificates_workspace_code_key"),
    Index("certificates_status_expiry_idx", "workspace_id", "status", "expires_at"),
    Index("certificates_created_idx", "workspace_id", "created_at", "id"),
    Index("certificates_purchaser_email_idx", "workspace_id", text("lower(purchaser_email)")),
    Index("certificates_recipient_email_idx", "workspace_id", text("lower(recipient_email)")),
    Index("certificates_activated_idx", "workspace_id", "activated_at"),
)

CERTIFICATE_REMINDER_DUE = and_(
    certificates.c.status == literal_column(f"'{Status.ACTIVE.value}'"),
    certificates.c.expiring_soon_notified_at.is_(None),
)
"""An active certificate whose expiry reminder is not yet out (literals, as OUTBOX_CHECKOUT_REPLY, so
the planner matches it to the partial index below): a tick's reminder scan reads only the
certificates it may remind, never again the ones it reminded at an earlier tick."""
Index("certificates_pending_idx", certificates.c.workspace_id, certificates.c.created_at,
      postgresql_where=certificates.c.status == literal_column(f"'{Status.PENDING.value}'"))
"""The pending certificates, oldest first: what a tick voids once unpaid for the workspace's pending_days."""
Index("certificates_reminder_due_idx", certificates.c.workspace_id, certificates.c.expires_at,
      postgresql_where=CERTIFICATE_REMINDER_DUE)

certificate_sequences = Table(
    "certificate_sequences",
    metadata,
    Column("certificate_id", Uuid, primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)
"""Each certificate's event counter: the `sequence` of its latest event (migration 0010,
`outbox_next_sequences`, which store/outbox.py calls as it writes a batch's rows)."""

certificate_activity = Table(
    "certificate_activity",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("certificate_id", Uuid, ForeignKey("certificates.id"), nullable=False),
    Column("workspace_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    _timestamp("occurred_at", nullable=False),
    Column("actor", String(200)),
    Column("reason", String(500)),
    Column("reference", String(128)),
    Index("certificate_activity_certificate_idx", "certificate_id", "id"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("certificate_id", Uuid, ForeignKey("certificates.id"), nullable=False),
    Column("workspace_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("order_id", String(128)),
    _timestamp("occurred_at", nullable=False),
    Column("redemption_id", String(128)),
    # a refund's entry: the request_id of the redemption (redeem or capture) it gives back (migration 0013)
    UniqueConstraint("certificate_id", "request_id", name="ledger_entries_certificate_request_key"),
    Index("ledger_entries_order_idx", "workspace_id", "order_id"),
    Index("ledger_entries_period_idx", "workspace_id", "occurred_at"),  # the reports' periods (migration 0015)
)

holds = Table(
    "holds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("certificate_id", Uuid, ForeignKey("certificates.id"), nullable=False),
    Column("order_id", String(128), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    _timestamp("expires_at", nullable=False),
    Column("state", String(16), nullable=False),
    Column("captured_minor", BigInteger),
    _timestamp("created_at", nullable=False),
    _timestamp("ended_at"),
    Index("holds_certificate_idx", "certificate_id", "state"),
    Index("holds_order_idx", "workspace_id", "order_id"),
    Index("holds_live_expiry_idx", "workspace_id", "expires_at", postgresql_where=text("state = 'live'")),
)
"""Contract v2's holds (migration 0012): the id is the hold request's request_id. A hold's state
changes only under its certificate's row lock (ledger/holds.py, capture.py, release.py, expiry.py)."""

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("workspace_id", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    _timestamp("handled_at", nullable=False),
    Column("reply_topic", String(64)),
    Column("reply", JSONB),
    Index("inbox_handled_at_idx", "handled_at"),  # pruning past GIFTCERT_DEDUPE_DAYS (store/retention.py)
)

request_keys = Table(
    "request_keys",
    metadata,
    Column("workspace_id", String(64), primary_key=True),
    Column("operation", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    _timestamp("first_seen_at", nullable=False),
    Column("answer_status", Integer),
    Column("answer", JSONB),
    Index("request_keys_first_seen_idx", "first_seen_at"),
)
"""An idempotency key bound to the request it first came with (messaging/request_keys.py, store/request_keys.py)."""

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("topic", String(64), nullable=False),
    Column("key", String(128), nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    _timestamp("created_at", nullable=False),
    Column("sequence", BigInteger),
)
OUTBOX_CHECKOUT_REPLY = outbox.c.topic.in_([literal_column(f"'{topic.value}'") for topic in CHECKOUT_REPLY_TOPICS])
"""An outbox row that answers a redeem request (its topics as literals, so the planner matches it to
the partial index below whatever the statement's parameters): the relay's checkout lane finds its
few rows without scanning past a bulk of other events."""
Index("outbox_checkout_replies_idx", outbox.c.id, postgresql_where=OUTBOX_CHECKOUT_REPLY)

documents = Table(
    "documents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("certificate_id", Uuid, ForeignKey("certificates.id"), nullable=False, unique=True),
    Column("workspace_id", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    _timestamp("created_at", nullable=False),
)

redemption_failures = Table(
    "redemption_failures",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("order_id", String(128), nullable=False),
    _timestamp("failed_at", nullable=False),
    Index("redemption_failures_order_idx", "workspace_id", "order_id", "failed_at"),
    Index("redemption_failures_failed_at_idx", "failed_at"),  # pruning past the window (store/retention.py)
)

parked_payments = Table(
    "parked_payments",
    metadata,
    Column("workspace_id", String(64), primary_key=True),
    Column("payment_id", String(128), primary_key=True),
    Column("certificate_id", Uuid, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    _timestamp("completed_at", nullable=False),
    _timestamp("parked_at", nullable=False),
    Index("parked_payments_certificate_idx", "workspace_id", "certificate_id"),
    Index("parked_payments_parked_at_idx", "parked_at"),
)

products = Table(
    "products",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("fixed_amounts", ARRAY(BigInteger), nullable=False),
    Column("min_minor", BigInteger),
    Column("max_minor", BigInteger),
    Column("segments", ARRAY(String(64)), nullable=False),
    Column("segment_restricted_redemption", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    _timestamp("created_at", nullable=False),
    _timestamp("updated_at", nullable=False),
    Index("products_workspace_idx", "workspace_id", "name"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("label", String(200), nullable=False),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    _timestamp("created_at", nullable=False),
    _timestamp("revoked_at"),
)

bulk_uploads = Table(
    "bulk_uploads",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("workspace_id", String(64), nullable=False),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("issued", Integer, nullable=False),
    Column("already_issued", Integer, nullable=False),
    Column("failed_rows", JSONB),
    Column("state", String(16), nullable=False),
    _timestamp("created_at", nullable=False),
    _timestamp("updated_at", nullable=False),
    _timestamp("finished_at"),
    Index("bulk_uploads_updated_at_idx", "updated_at"),  # forgetting past an hour (store/bulk_uploads.py)
)
"""The console's bulk uploads (migration 0016), by their unguessable id, so that every API replica can
show one: `updated_at` is the running process's heartbeat, then the time it ended."""

OUTBOX_CHANNEL = "giftcert_outbox"
"""NOTIFY channel the outbox trigger signals on; a wake-up for the relay, never its correctness."""

NOW = text("now()")
