"""scoring runs

Revision ID: 379bacfedd0e
Revises: 197e95a25bb5
Create Date: 2026-11-27 15:59:13.356736

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '379bacfedd0e'
down_revision = '197e95a25bb5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scoring_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('subjects_total', sa.Integer(), nullable=True),
    sa.Column('subjects_scored', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['started_by_id'], ['user_account.id'], name=op.f('fk_scoring_run_started_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scoring_run'))
    )
    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scoring_run_started_at'), ['started_at'], unique=False)

    with op.batch_alter_table('credit_score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contributions', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('credit_score', schema=None) as batch_op:
        batch_op.drop_column('contributions')

    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scoring_run_started_at'))

    op.drop_table('scoring_run')
