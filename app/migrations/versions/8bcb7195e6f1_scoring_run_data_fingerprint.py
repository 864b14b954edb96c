"""scoring run data fingerprint

Revision ID: 8bcb7195e6f1
Revises: 629af1f978da
Create Date: 2026-12-05 16:31:52.870714

Each scoring run records which data its scores came from (docs/scale.md): the Parquet snapshot
manifest's digest when scored on Dask, else the digest of the loaded batches.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8bcb7195e6f1'
down_revision = '629af1f978da'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_fingerprint', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.drop_column('data_fingerprint')
