"""Contract v2's refunds, certificate kinds and unpaid voiding.

A refund's ledger entry names the redemption it gives back (`ledger_entries.redemption_id`: the
request_id of the redeem or capture, NULL on every other entry). Certificates have a `kind`
(`purchased` by default, so rows from before are what they were) and, for a `credit`, the order it
replaces. Workspaces void a certificate left unpaid `pending_days` (7 by default; 0: never).

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ledger_entries", sa.Column("redemption_id", sa.String(128), nullable=True))
    op.add_column("certificates", sa.Column("kind", sa.String(16), nullable=False, server_default="purchased"))
    op.add_column("certificates", sa.Column("replaces_order_id", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("certificates", "replaces_order_id")
    op.drop_column("certificates", "kind")
    op.drop_column("ledger_entries", "redemption_id")
