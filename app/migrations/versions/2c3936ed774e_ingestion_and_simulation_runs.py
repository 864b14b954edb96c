"""ingestion and simulation runs

Two more kinds of background run (issue 13: the long runs go through the job queue), each with the
columns every run has (trigger, status, started/heartbeat/finished times, error):
- `ingestion_run`: a data admin's upload loaded as a job — the saved file paths, files done of total,
  the engine's summary when it ends, and the scoring run it started for the subjects it changed;
- `simulation_run`: a `flask market simulate` run — seed, months, until, truth file and activity it
  was given, months replayed so far and the counts it ended with.
Both tables are new, so the downgrade drops them.

Revision ID: 2c3936ed774e
Revises: 16c71a347e7c
Create Date: 2026-12-05 10:01:12.302200

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2c3936ed774e'
down_revision = '16c71a347e7c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('simulation_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('until', sa.DateTime(), nullable=True),
    sa.Column('truth_path', sa.String(length=500), nullable=True),
    sa.Column('activity', sa.Double(), nullable=False),
    sa.Column('months_done', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_simulation_run'))
    )
    with op.batch_alter_table('simulation_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_simulation_run_started_at'), ['started_at'], unique=False)

    op.create_table('ingestion_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upload_name', sa.String(length=255), nullable=False),
    sa.Column('paths', sa.JSON(), nullable=False),
    sa.Column('files_total', sa.Integer(), nullable=False),
    sa.Column('files_done', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('scoring_run_id', sa.Integer(), nullable=True),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['scoring_run_id'], ['scoring_run.id'], name=op.f('fk_ingestion_run_scoring_run_id_scoring_run')),
    sa.ForeignKeyConstraint(['started_by_id'], ['user_account.id'], name=op.f('fk_ingestion_run_started_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingestion_run'))
    )
    with op.batch_alter_table('ingestion_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingestion_run_started_at'), ['started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('ingestion_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingestion_run_started_at'))

    op.drop_table('ingestion_run')
    with op.batch_alter_table('simulation_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_simulation_run_started_at'))

    op.drop_table('simulation_run')
