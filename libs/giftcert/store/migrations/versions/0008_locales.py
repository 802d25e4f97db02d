"""The language and formats of what recipients read: a workspace's default locale (`en` for those
that had none) and the locale a purchase named for its recipient (null: the workspace's).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("locale", sa.String(35), nullable=False, server_default="en"))
    op.add_column("certificates", sa.Column("locale", sa.String(35), nullable=True))


def downgrade() -> None:
    op.drop_column("certificates", "locale")
    op.drop_column("workspaces", "locale")
