"""A partial index on the outbox rows that answer a redeem request, for the relay's checkout lane:
it claims them by id without scanning past a bulk of other events (an expiry tick's, say).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX outbox_checkout_replies_idx ON outbox (id) "
        "WHERE topic IN ('certificate-redeemed', 'redemption-rejected')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX outbox_checkout_replies_idx")
