"""one active model version

Revision ID: fa830fdec1bb
Revises: 379bacfedd0e
Create Date: 2026-12-02 10:00:00.000000

The database's `model_version.is_active` becomes the one home of the active version (it was
`models/registry.json`). A partial unique index lets at most one row be active; should an older
database hold several, the most recently activated one stays active.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fa830fdec1bb'
down_revision = '379bacfedd0e'
branch_labels = None
depends_on = None

model_version = sa.table('model_version', sa.column('id', sa.Integer), sa.column('is_active', sa.Boolean),
                         sa.column('activated_at', sa.DateTime))


def upgrade():
    newest = (sa.select(model_version.c.id).where(model_version.c.is_active)
              .order_by(model_version.c.activated_at.desc().nulls_last(), model_version.c.id.desc()).limit(1)
              .scalar_subquery())
    op.execute(model_version.update().where(model_version.c.is_active, model_version.c.id != newest)
               .values(is_active=False))
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.create_index('uq_model_version_one_active', ['is_active'], unique=True,
                              sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))


def downgrade():
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.drop_index('uq_model_version_one_active')
