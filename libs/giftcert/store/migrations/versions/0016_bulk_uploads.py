"""The console's bulk uploads live in PostgreSQL rather than in the memory of the API process that
took the file, so the upload's page and its progress answer from any replica (decision 35).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_uploads",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("issued", sa.Integer, nullable=False),
        sa.Column("already_issued", sa.Integer, nullable=False),
        sa.Column("failed_rows", postgresql.JSONB),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("bulk_uploads_updated_at_idx", "bulk_uploads", ["updated_at"])


def downgrade() -> None:
    op.drop_index("bulk_uploads_updated_at_idx", table_name="bulk_uploads")
    op.drop_table("bulk_uploads")
