"""ingestion batch figures and payload hash

Revision ID: f02e9ef17ce1
Revises: 7425f85f16b4
Create Date: 2026-11-27 14:35:08.074364

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f02e9ef17ce1'
down_revision = '7425f85f16b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('source_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_duplicate', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rows_warned', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reject_reasons', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('encoding', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_hash', sa.String(length=16), nullable=False, server_default=''))
        batch_op.alter_column('natural_key',
               existing_type=sa.VARCHAR(length=120),
               type_=sa.String(length=200),
               existing_nullable=False)
        batch_op.drop_index(batch_op.f('ix_source_record_natural_key'))
        batch_op.create_index('ix_source_record_source_key', ['source', 'natural_key'], unique=False)



def downgrade():
    with op.batch_alter_table('source_record', schema=None) as batch_op:
        batch_op.drop_index('ix_source_record_source_key')
        batch_op.create_index(batch_op.f('ix_source_record_natural_key'), ['natural_key'], unique=False)
        batch_op.alter_column('natural_key',
               existing_type=sa.String(length=200),
               type_=sa.VARCHAR(length=120),
               existing_nullable=False)
        batch_op.drop_column('payload_hash')

    with op.batch_alter_table('source_batch', schema=None) as batch_op:
        batch_op.drop_column('finished_at')
        batch_op.drop_column('encoding')
        batch_op.drop_column('reject_reasons')
        batch_op.drop_column('rows_warned')
        batch_op.drop_column('rows_duplicate')

