"""market simulation

Revision ID: e79621e4152b
Revises: c780efa996d9
Create Date: 2026-12-05 09:30:51.603170

The replayed market of each seed (`flask market simulate`) and how far it has been replayed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e79621e4152b'
down_revision = 'c780efa996d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('market_simulation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=False),
    sa.Column('simulated_until', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_simulation')),
    sa.UniqueConstraint('seed', name=op.f('uq_market_simulation_seed'))
    )


def downgrade():
    op.drop_table('market_simulation')
