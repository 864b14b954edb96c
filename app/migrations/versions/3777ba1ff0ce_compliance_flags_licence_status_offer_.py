"""compliance flags, licence status, offer APR

The compliance rules' flags (docs/compliance.md), each institution's licence status (valid for every
existing one), and the APR disclosed with an offer (empty for offers made before: the rule
"apr_disclosure" finds those).

Revision ID: 3777ba1ff0ce
Revises: 60411c1a3e99
Create Date: 2026-12-05 12:41:59.478415

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3777ba1ff0ce'
down_revision = '60411c1a3e99'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('compliance_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledgement_note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['user_account.id'], name=op.f('fk_compliance_flag_acknowledged_by_id_user_account')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_compliance_flag_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_flag')),
    sa.UniqueConstraint('rule', 'target_type', 'target_id', name=op.f('uq_compliance_flag_rule'))
    )
    with op.batch_alter_table('compliance_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_flag_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('ix_compliance_flag_open', ['acknowledged_at', 'rule', 'institution_id'], unique=False)

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_apr', sa.Numeric(precision=6, scale=3), nullable=True))

    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.add_column(sa.Column('licence_status', sa.String(length=12), server_default='valid', nullable=False))



def downgrade():
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_column('licence_status')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('approved_apr')

    with op.batch_alter_table('compliance_flag', schema=None) as batch_op:
        batch_op.drop_index('ix_compliance_flag_open')
        batch_op.drop_index(batch_op.f('ix_compliance_flag_institution_id'))

    op.drop_table('compliance_flag')
