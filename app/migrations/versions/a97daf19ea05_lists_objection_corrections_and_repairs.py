"""lists, objection corrections and repairs

Revision ID: a97daf19ea05
Revises: 30edf948cf6c
Create Date: 2026-12-05 12:41:32.223129

A list entry names its configured list (`list_kind`, whose measures say what it does), where it came
from (the regulator, or a 失信被执行人 court record it points at), the end of its term, and who removed
it, when and why. An upheld objection and an approved repair point at the record that corrected the
one they were about. Entries made before this revision (none were written by the platform) are
given the general list of their type.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a97daf19ea05'
down_revision = '30edf948cf6c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('list_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_kind', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('source', sa.String(length=32), server_default='regulator', nullable=False))
        batch_op.add_column(sa.Column('source_record_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('removed_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('removed_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_list_entry_source_record_id'), ['source_record_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_list_entry_removed_by_id_user_account'), 'user_account', ['removed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_list_entry_source_record_id_source_record'), 'source_record', ['source_record_id'], ['id'])
    op.execute("UPDATE list_entry SET list_kind = CASE list_type WHEN 'black' THEN 'serious_dishonest' "
               "ELSE 'trustworthy' END WHERE list_kind = ''")

    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction_record_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_objection_correction_record_id_source_record'), 'source_record', ['correction_record_id'], ['id'])

    with op.batch_alter_table('repair_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction_record_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_repair_request_correction_record_id_source_record'), 'source_record', ['correction_record_id'], ['id'])



def downgrade():
    with op.batch_alter_table('repair_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_repair_request_correction_record_id_source_record'), type_='foreignkey')
        batch_op.drop_column('correction_record_id')

    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_objection_correction_record_id_source_record'), type_='foreignkey')
        batch_op.drop_column('correction_record_id')

    with op.batch_alter_table('list_entry', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_list_entry_source_record_id_source_record'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_list_entry_removed_by_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_list_entry_source_record_id'))
        batch_op.drop_column('removed_by_id')
        batch_op.drop_column('removed_reason')
        batch_op.drop_column('ends_on')
        batch_op.drop_column('source_record_id')
        batch_op.drop_column('source')
        batch_op.drop_column('list_kind')

