"""Payments that arrived before their purchase request, held for the grace period.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_payments",
        sa.Column("workspace_id", sa.String(64), primary_key=True),
        sa.Column("payment_id", sa.String(128), primary_key=True),
        sa.Column("certificate_id", sa.Uuid, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("parked_payments_certificate_idx", "parked_payments", ["workspace_id", "certificate_id"])
    op.create_index("parked_payments_parked_at_idx", "parked_payments", ["parked_at"])


def downgrade() -> None:
    op.drop_index("parked_payments_parked_at_idx", table_name="parked_payments")
    op.drop_index("parked_payments_certificate_idx", table_name="parked_payments")
    op.drop_table("parked_payments")
