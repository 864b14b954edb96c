"""one current record per key, one batch per file

Revision ID: 654111ad30d3
Revises: bc82dfcd20b5
Create Date: 2026-12-05 10:05:42.349859

Two unique indexes make ingestion unable to double a load (issue #13): at most one current record
(`superseded_by_id IS NULL`) per source and natural key, and at most one batch per source and file
checksum. Two loads of one file at the same moment could store both before; what they left is
settled first: of several current records of one key the newest stays current and the others point
at it, and of several batches of one file the first stays "loaded" while the later ones become
"duplicate" (kept as provenance of their records, left out of the index and of source health).
The plain index on (source, natural_key) becomes two partial ones, the unique one of current records
and one of superseded records (which a re-sent older row is compared with): a new record enters one
index on that pair, as before. Downgrading restores the plain index, drops the others and makes
the duplicate batches "loaded" again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '654111ad30d3'
down_revision = 'bc82dfcd20b5'
branch_labels = None
depends_on = None

DUPLICATE_BATCHES_EXCLUDED = sa.text("status <> 'duplicate'")
CURRENT_RECORDS = sa.text("superseded_by_id IS NULL")
SUPERSEDED_RECORDS = sa.text("superseded_by_id IS NOT NULL")

# UPDATE … FROM: PostgreSQL, and SQLite since 3.33.
SETTLE_RECORDS = """
UPDATE source_record SET superseded_by_id = newest.id
FROM (SELECT source, natural_key, MAX(id) AS id FROM source_record WHERE superseded_by_id IS NULL
      GROUP BY source, natural_key HAVING COUNT(*) > 1) AS newest
WHERE source_record.source = newest.source AND source_record.natural_key = newest.natural_key
  AND source_record.superseded_by_id IS NULL AND source_record.id < newest.id
"""
SETTLE_BATCHES = """
UPDATE source_batch SET status = 'duplicate'
FROM (SELECT source, file_sha256, MIN(id) AS id FROM source_batch WHERE status <> 'duplicate'
      GROUP BY source, file_sha256 HAVING COUNT(*) > 1) AS kept
WHERE source_batch.source = kept.source AND source_batch.file_sha256 = kept.file_sha256
  AND source_batch.id > kept.id
"""


def upgrade():
    op.execute(SETTLE_RECORDS)
    op.execute(SETTLE_BATCHES)
    with op.batch_alter_table('source_batch', schema=None) as batch_op:
        batch_op.create_index('uq_source_batch_file', ['source', 'file_sha256'], unique=True,
                              sqlite_where=DUPLICATE_BATCHES_EXCLUDED, postgresql_where=DUPLICATE_BATCHES_EXCLUDED)

    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.drop_index('ix_source_record_source_key')
        batch_op.create_index('uq_source_record_current', ['source', 'natural_key'], unique=True,
                              sqlite_where=CURRENT_RECORDS, postgresql_where=CURRENT_RECORDS)
        batch_op.create_index('ix_source_record_superseded_key', ['source', 'natural_key'],
                              sqlite_where=SUPERSEDED_RECORDS, postgresql_where=SUPERSEDED_RECORDS)


def downgrade():
    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.drop_index('ix_source_record_superseded_key', sqlite_where=SUPERSEDED_RECORDS,
                            postgresql_where=SUPERSEDED_RECORDS)
        batch_op.drop_index('uq_source_record_current', sqlite_where=CURRENT_RECORDS,
                            postgresql_where=CURRENT_RECORDS)
        batch_op.create_index('ix_source_record_source_key', ['source', 'natural_key'], unique=False)

    with op.batch_alter_table('source_batch', schema=None) as batch_op:
        batch_op.drop_index('uq_source_batch_file', sqlite_where=DUPLICATE_BATCHES_EXCLUDED,
                            postgresql_where=DUPLICATE_BATCHES_EXCLUDED)
    op.execute("UPDATE source_batch SET status = 'loaded' WHERE status = 'duplicate'")
