"""temporary passwords are changed at first login

Revision ID: a4c2cbeb7fee
Revises: 822d655500a5
Create Date: 2026-12-05 16:17:03.132042

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a4c2cbeb7fee'
down_revision = '822d655500a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_temporary', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('password_temporary')

