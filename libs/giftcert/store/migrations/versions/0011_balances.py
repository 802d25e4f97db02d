"""Balances kept with the certificate (the sum of its ledger entries), the workspace settings of
contract v2 (redemption mode, hold lengths, refund validity), and the ledger read by order.

`balance_minor` is NULL on rows from before (no backfill, so the previous release runs on this
schema unchanged): v1's statuses say their balance (pending or redeemed: 0; otherwise the whole
amount), and the store reads it so (store/certificates.py).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("certificates", sa.Column("balance_minor", sa.BigInteger, nullable=True))
    op.add_column("workspaces", sa.Column("redemption_mode", sa.String(16), nullable=False, server_default="full"))
    op.add_column("workspaces", sa.Column("hold_seconds_default", sa.Integer, nullable=False, server_default="900"))
    op.add_column("workspaces", sa.Column("hold_seconds_max", sa.Integer, nullable=False, server_default="86400"))
    op.add_column("workspaces", sa.Column("refund_validity_days", sa.Integer, nullable=False, server_default="90"))
    op.create_index("ledger_entries_order_idx", "ledger_entries", ["workspace_id", "order_id"])


def downgrade() -> None:
    op.drop_index("ledger_entries_order_idx", table_name="ledger_entries")
    for column in ("refund_validity_days", "hold_seconds_max", "hold_seconds_default", "redemption_mode"):
        op.drop_column("workspaces", column)
    op.drop_column("certificates", "balance_minor")
