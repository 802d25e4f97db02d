"""The operator and portal surface: certificate products, API keys, the workspace's activation-email
switch, the product a certificate was sold as, and the indexes searches and reports use.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "workspaces",
        sa.Column("send_activation_email", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("fixed_amounts", postgresql.ARRAY(sa.BigInteger), nullable=False),
        sa.Column("min_minor", sa.BigInteger),
        sa.Column("max_minor", sa.BigInteger),
        sa.Column("segments", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("segment_restricted_redemption", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("products_workspace_idx", "products", ["workspace_id", "name"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.add_column("certificates", sa.Column("product_id", sa.Uuid))
    op.create_index("certificates_created_idx", "certificates", ["workspace_id", "created_at", "id"])
    op.create_index("certificates_purchaser_email_idx", "certificates", ["workspace_id", sa.text("lower(purchaser_email)")])
    op.create_index("certificates_recipient_email_idx", "certificates", ["workspace_id", sa.text("lower(recipient_email)")])
    op.create_index("certificates_activated_idx", "certificates", ["workspace_id", "activated_at"])


def downgrade() -> None:
    op.drop_index("certificates_activated_idx", table_name="certificates")
    op.drop_index("certificates_recipient_email_idx", table_name="certificates")
    op.drop_index("certificates_purchaser_email_idx", table_name="certificates")
    op.drop_index("certificates_created_idx", table_name="certificates")
    op.drop_column("certificates", "product_id")
    op.drop_table("api_keys")
    op.drop_index("products_workspace_idx", table_name="products")
    op.drop_table("products")
    op.drop_column("workspaces", "send_activation_email")
