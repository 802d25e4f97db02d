"""The sales report reads a workspace's ledger entries of a period (value redeemed and refunded in
it, store/reports.py), through an index of their own rather than a scan of the whole ledger: the
console's dashboard runs that report on every view.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ledger_entries_period_idx", "ledger_entries", ["workspace_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ledger_entries_period_idx", table_name="ledger_entries")
