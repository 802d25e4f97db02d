"""Holds (contract v2): value of a certificate reserved for an order until `expires_at`.

One row per hold, its id the request_id of the booking-hold-request that placed it; `state` goes
from `live` to `captured`, `released` or `expired` once. What a hold reserved is also in the
ledger (`hold` -, then `released` or `hold_expired` +, decision 26); this table says which holds are
live and until when, for the order-due check, for what is available, and for a tick. Its indexes:
by certificate (what is available; a certificate a tick must not expire), by order (what an order
holds), and the live holds by expiry (a tick's hold expiry reads only those).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("certificate_id", sa.Uuid, sa.ForeignKey("certificates.id"), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("captured_minor", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_index("holds_certificate_idx", "holds", ["certificate_id", "state"])
    op.create_index("holds_order_idx", "holds", ["workspace_id", "order_id"])
    op.create_index(
        "holds_live_expiry_idx", "holds", ["workspace_id", "expires_at"], postgresql_where=sa.text("state = 'live'")
    )


def downgrade() -> None:
    op.drop_table("holds")
