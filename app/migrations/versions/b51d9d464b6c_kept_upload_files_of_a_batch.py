"""kept upload files of a batch

Revision ID: b51d9d464b6c
Revises: a290e72e66b9
Create Date: 2026-12-05 10:30:12.000000

Uploaded originals and reject reports are kept only for UPLOAD_RETENTION_DAYS (issue #13):
`source_batch.kept_file` is the uploaded original the platform keeps for a batch (none for a file
loaded from the operator's own folder), and `source_batch.files_removed_at` when it and the reject
report were removed; the batch, with its checksum and counts, stays. Earlier batches have neither:
`flask data purge-uploads` removes their old files by age and marks them when they had a report.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b51d9d464b6c'
down_revision = 'a290e72e66b9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('source_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept_file', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('files_removed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('source_batch', schema=None) as batch_op:
        batch_op.drop_column('files_removed_at')
        batch_op.drop_column('kept_file')
