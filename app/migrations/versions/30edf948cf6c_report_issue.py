"""Issued credit reports (信用报告) with their verification hash

Revision ID: 30edf948cf6c
Revises: 2c3936ed774e
Create Date: 2026-12-05 13:10:43.229625

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '30edf948cf6c'
down_revision = '2c3936ed774e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('issued_to', sa.String(length=12), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'],
                            name=op.f('fk_report_issue_institution_id_institution')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'],
                            name=op.f('fk_report_issue_issued_by_id_user_account')),
    sa.ForeignKeyConstraint(['subject_id'], ['credit_subject.id'],
                            name=op.f('fk_report_issue_subject_id_credit_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_issue')),
    sa.UniqueConstraint('code', name=op.f('uq_report_issue_code'))
    )
    with op.batch_alter_table('report_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_issue_subject_id'), ['subject_id'], unique=False)



def downgrade():
    with op.batch_alter_table('report_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_issue_subject_id'))

    op.drop_table('report_issue')
