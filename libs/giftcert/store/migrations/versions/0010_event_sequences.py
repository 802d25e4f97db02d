"""Each certificate's own event counter (`sequence` on every event that names it, CONTRACT.md v2),
bumped where outbox rows are written, and the relay's claim by key (decision 0025).

`certificate_sequences` holds the counter: one row per certificate, created by its first event. It
is not a column of `certificates` because a certificate's first event is written in the same
statement as the certificate itself when a handler holds its writes (store/bulk.py, `Writes`), and
a statement does not see its own rows. `outbox_next_sequences(ids)` bumps the counters of a batch's
rows at once (one upsert; a certificate's row is locked until the commit, so its numbers follow
its commit order) and returns each row's number, in the order given (null where no certificate).
It is a function so that the outbox's `INSERT` stays one plain statement, which a held write needs
(a data-modifying `WITH` cannot nest in another).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_sequences",
        sa.Column("certificate_id", sa.Uuid, primary_key=True),
        sa.Column("last_sequence", sa.BigInteger, nullable=False),
    )
    op.add_column("outbox", sa.Column("sequence", sa.BigInteger))
    op.execute("""CREATE FUNCTION outbox_next_sequences(ids uuid[]) RETURNS bigint[] LANGUAGE sql VOLATILE AS $$
        WITH given AS (
            SELECT id, ord FROM unnest(ids) WITH ORDINALITY AS g(id, ord)
        ), wanted AS (
            SELECT id, count(*) AS n FROM given WHERE id IS NOT NULL GROUP BY id
        ), bumped AS (
            INSERT INTO certificate_sequences AS s (certificate_id, last_sequence)
            SELECT id, n FROM wanted ORDER BY id
            ON CONFLICT (certificate_id) DO UPDATE SET last_sequence = s.last_sequence + excluded.last_sequence
            RETURNING certificate_id, last_sequence
        ), numbered AS (
            SELECT g.ord,
                   b.last_sequence - w.n + row_number() OVER (PARTITION BY g.id ORDER BY g.ord) AS sequence
            FROM given AS g
            LEFT JOIN wanted AS w ON w.id = g.id
            LEFT JOIN bumped AS b ON b.certificate_id = g.id
        )
        SELECT coalesce(array_agg(sequence ORDER BY ord), '{}') FROM numbered
    $$
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION outbox_next_sequences(uuid[])")
    op.drop_column("outbox", "sequence")
    op.drop_table("certificate_sequences")
