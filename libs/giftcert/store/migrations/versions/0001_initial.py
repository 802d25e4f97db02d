"""Initial certificate store: workspaces, certificates, activity, ledger, inbox, outbox, documents.

Revision ID: 0001
Revises:
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = True) -> "sa.Column[Any]":
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("portal_enabled", sa.Boolean, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("min_minor", sa.BigInteger, nullable=False),
        sa.Column("max_minor", sa.BigInteger, nullable=False),
        sa.Column("expiry_days", sa.Integer, nullable=False),
        sa.Column("reminder_days", sa.Integer, nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("segment", sa.String(64)),
        sa.Column("purchaser_name", sa.String(200), nullable=False),
        sa.Column("purchaser_email", sa.String(320), nullable=False),
        sa.Column("recipient_name", sa.String(200), nullable=False),
        sa.Column("recipient_email", sa.String(320), nullable=False),
        sa.Column("message", sa.String(500)),
        sa.Column("expiry_days", sa.Integer, nullable=False),
        sa.Column("payment_id", sa.String(128)),
        _ts("created_at", nullable=False),
        _ts("activated_at"),
        _ts("expires_at"),
        _ts("redeemed_at"),
        _ts("voided_at"),
        _ts("expired_at"),
        _ts("expiring_soon_notified_at"),
        sa.UniqueConstraint("workspace_id", "code", name="certificates_workspace_code_key"),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'redeemed', 'voided', 'expired')",
            name="certificates_status_check",
        ),
        sa.CheckConstraint("amount_minor > 0", name="certificates_amount_positive"),
    )
    op.create_index(
        "certificates_status_expiry_idx", "certificates", ["workspace_id", "status", "expires_at"]
    )
    op.create_table(
        "certificate_activity",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("certificate_id", sa.Uuid, sa.ForeignKey("certificates.id"), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        _ts("occurred_at", nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("reason", sa.String(500)),
        sa.Column("reference", sa.String(128)),
    )
    op.create_index(
        "certificate_activity_certificate_idx", "certificate_activity", ["certificate_id", "id"]
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("certificate_id", sa.Uuid, sa.ForeignKey("certificates.id"), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("order_id", sa.String(128)),
        _ts("occurred_at", nullable=False),
        sa.UniqueConstraint(
            "certificate_id", "request_id", name="ledger_entries_certificate_request_key"
        ),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("workspace_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        _ts("handled_at", nullable=False),
        sa.Column("reply_topic", sa.String(64)),
        sa.Column("reply", postgresql.JSONB),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("headers", postgresql.JSONB, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "certificate_id", sa.Uuid, sa.ForeignKey("certificates.id"), nullable=False, unique=True
        ),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        _ts("created_at", nullable=False),
    )


def downgrade() -> None:
    for table in (
        "documents", "outbox", "inbox", "ledger_entries", "certificate_activity", "certificates",
        "workspaces",
    ):
        op.drop_table(table)
