"""Failed redemption attempts per order, for the code-guessing limit.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "redemption_failures",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "redemption_failures_order_idx", "redemption_failures", ["workspace_id", "order_id", "failed_at"]
    )


def downgrade() -> None:
    op.drop_index("redemption_failures_order_idx", table_name="redemption_failures")
    op.drop_table("redemption_failures")
