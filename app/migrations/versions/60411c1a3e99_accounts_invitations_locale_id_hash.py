"""accounts: invitation codes, firm owners, user locale, keyed ID-number hash, village

Revision ID: 60411c1a3e99
Revises: 86b49c159721
Create Date: 2026-12-05 12:40:44.241225

A subject's users join it with a one-time invitation code (stored hashed); one of them owns the
subject's accounts. Each user keeps the language they chose. Subjects keep a keyed hash of the legal
representative's (a farmer's: the household head's) ID number beside its mask, and the village of a
farmer registered without a household code.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '60411c1a3e99'
down_revision = '86b49c159721'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('used_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_invitation_issued_by_id_user_account')),
    sa.ForeignKeyConstraint(['subject_id'], ['credit_subject.id'], name=op.f('fk_invitation_subject_id_credit_subject')),
    sa.ForeignKeyConstraint(['used_by_id'], ['user_account.id'], name=op.f('fk_invitation_used_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invitation_code_hash'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_subject_id'), ['subject_id'], unique=False)

    with op.batch_alter_table('credit_subject', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_rep_id_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('village', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_credit_subject_legal_rep_id_hash'), ['legal_rep_id_hash'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('locale', sa.String(length=5), nullable=True))



def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('locale')
        batch_op.drop_column('owner')

    with op.batch_alter_table('credit_subject', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_subject_legal_rep_id_hash'))
        batch_op.drop_column('village')
        batch_op.drop_column('legal_rep_id_hash')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_subject_id'))

    op.drop_table('invitation')
