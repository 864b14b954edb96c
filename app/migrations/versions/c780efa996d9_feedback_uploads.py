"""feedback uploads

Revision ID: c780efa996d9
Revises: 9de2e2c36e2b
Create Date: 2026-12-05 09:30:55.979017

A lender's 贷后反馈 file (who uploaded which file when, its sha256, what loading it did) and, on
each monthly report, the file it came from. Reports made before this revision came from the loan's
page: their upload stays empty.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c780efa996d9'
down_revision = '9de2e2c36e2b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('encoding', sa.String(length=16), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_loaded', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('rejects', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'],
                            name=op.f('fk_feedback_upload_institution_id_institution')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'],
                            name=op.f('fk_feedback_upload_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_upload'))
    )
    with op.batch_alter_table('feedback_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_upload_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_upload_institution_id'), ['institution_id'], unique=False)

    with op.batch_alter_table('repayment_outcome', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upload_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_repayment_outcome_upload_id'), ['upload_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_repayment_outcome_upload_id_feedback_upload'), 'feedback_upload',
                                    ['upload_id'], ['id'])


def downgrade():
    with op.batch_alter_table('repayment_outcome', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_repayment_outcome_upload_id_feedback_upload'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_repayment_outcome_upload_id'))
        batch_op.drop_column('upload_id')

    with op.batch_alter_table('feedback_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_upload_institution_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_upload_file_sha256'))

    op.drop_table('feedback_upload')
