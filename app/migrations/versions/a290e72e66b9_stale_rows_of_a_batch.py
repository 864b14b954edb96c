"""stale rows of a batch

Revision ID: a290e72e66b9
Revises: 654111ad30d3
Create Date: 2026-12-05 10:08:16.500966

`source_batch.rows_stale`: of a batch's unchanged rows, how many were equal to a version of their
record that a correction had already replaced (an older file sent again), and so were not written
back over the correction (issue #13, docs/ingestion.md). Earlier batches count 0.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a290e72e66b9'
down_revision = '654111ad30d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('source_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_stale', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('source_batch', schema=None) as batch_op:
        batch_op.drop_column('rows_stale')
