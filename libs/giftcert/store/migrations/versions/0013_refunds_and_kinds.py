"""Contract v2's refunds, certificate kinds and unpaid voiding.

A refund's ledger entry names the redemption it gives back (`ledger_entries.redemption_id`: the
request_id of the redeem or capture, NULL on every other entry). Certificates have a `kind`
(`purchased` by default, so rows from before are what they were) and, for a `credit`, the order it
replaces. Workspaces void a certificate left unpaid `pending_days` (0, never, by default: v1's rule). The
inbox and the unknown codes tried are pruned by time (store/retention.py), through indexes of their own.

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ledger_entries", sa.Column("redemption_id", sa.String(128), nullable=True))
    op.add_column("certificates", sa.Column("kind", sa.String(16), nullable=False, server_default="purchased"))
    op.add_column("certificates", sa.Column("replaces_order_id", sa.String(128), nullable=True))
    op.add_column("workspaces", sa.Column("pending_days", sa.Integer, nullable=False, server_default="0"))
    op.create_index(
        "certificates_pending_idx", "certificates", ["workspace_id", "created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


    op.create_index("inbox_handled_at_idx", "inbox", ["handled_at"])
    op.create_index("redemption_failures_failed_at_idx", "redemption_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("redemption_failures_failed_at_idx", table_name="redemption_failures")
    op.drop_index("inbox_handled_at_idx", table_name="inbox")
    op.drop_index("certificates_pending_idx", table_name="certificates")
    op.drop_column("workspaces", "pending_days")
    op.drop_column("certificates", "replaces_order_id")
    op.drop_column("certificates", "kind")
    op.drop_column("ledger_entries", "redemption_id")
