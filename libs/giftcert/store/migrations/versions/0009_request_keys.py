"""Idempotency keys bound to the request they first came with: a key that comes back with another
request is refused (`idempotency_key_reused`) rather than answered as a repeat.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_keys",
        sa.Column("workspace_id", sa.String(64), primary_key=True),
        sa.Column("operation", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_status", sa.Integer),
        sa.Column("answer", postgresql.JSONB),
    )
    op.create_index("request_keys_first_seen_idx", "request_keys", ["first_seen_at"])


def downgrade() -> None:
    op.drop_index("request_keys_first_seen_idx", table_name="request_keys")
    op.drop_table("request_keys")
