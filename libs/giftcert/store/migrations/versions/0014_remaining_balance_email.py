"""The workspace setting `remaining_balance_email`: after a redemption that leaves a balance, the
recipient is emailed what is left. Off for every workspace, existing ones included.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "workspaces", sa.Column("remaining_balance_email", sa.Boolean, nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("workspaces", "remaining_balance_email")
