"""match runs

Revision ID: c72b54e9a395
Revises: fa830fdec1bb
Create Date: 2026-12-05 07:01:36.802815

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c72b54e9a395'
down_revision = 'fa830fdec1bb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('match_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('needs_total', sa.Integer(), nullable=True),
    sa.Column('needs_done', sa.Integer(), nullable=False),
    sa.Column('products', sa.Integer(), nullable=True),
    sa.Column('pairs', sa.BigInteger(), nullable=True),
    sa.Column('matches_stored', sa.BigInteger(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_run'))
    )
    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_run_started_at'), ['started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('match_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_run_started_at'))

    op.drop_table('match_run')
