"""A partial index on the active certificates whose expiry reminder is not yet out, for a tick's
reminder scan: it reads the certificates it may remind, not again the reminder window's others.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX certificates_reminder_due_idx ON certificates (workspace_id, expires_at) "
        "WHERE status = 'active' AND expiring_soon_notified_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX certificates_reminder_due_idx")
