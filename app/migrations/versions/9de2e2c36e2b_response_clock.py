"""response clock

Revision ID: 9de2e2c36e2b
Revises: b03953ce6ec3
Create Date: 2026-12-05 07:41:49.021707

Each application gets its due time, the officer it is assigned to and when it was escalated for
being overdue (docs/response-clock.md). Existing applications get the due time the clock would have
given them: from their submission and their institution's response limit as it stands now, moved
by every information request the firm has answered.
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from app.common.workdays import due_time, parse_closing_time, pauses, paused_days, postpone


# revision identifiers, used by Alembic.
revision = '9de2e2c36e2b'
down_revision = 'b03953ce6ec3'
branch_labels = None
depends_on = None

application = sa.table('application', sa.column('id', sa.Integer), sa.column('institution_id', sa.Integer),
                       sa.column('created_at', sa.DateTime), sa.column('due_at', sa.DateTime))
institution = sa.table('institution', sa.column('id', sa.Integer), sa.column('response_limit_days', sa.Integer))
event = sa.table('application_event', sa.column('id', sa.Integer), sa.column('application_id', sa.Integer),
                 sa.column('to_status', sa.String), sa.column('at', sa.DateTime))


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_application_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_due_at'), ['due_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_application_assigned_to_id_user_account'), 'user_account',
                                    ['assigned_to_id'], ['id'])
    back_fill_due_times(op.get_bind(), parse_closing_time(current_app.config['RESPONSE_DAY_CLOSES_AT']))


def back_fill_due_times(connection, closes_at):
    """Set every application's due time as the response clock would have."""
    limits = dict(connection.execute(sa.select(institution.c.id, institution.c.response_limit_days)).all())
    changes = {}
    for application_id, status, at in connection.execute(
            sa.select(event.c.application_id, event.c.to_status, event.c.at)
            .order_by(event.c.application_id, event.c.id)):
        changes.setdefault(application_id, []).append((status, at))
    rows = connection.execute(sa.select(application.c.id, application.c.institution_id,
                                        application.c.created_at)).all()
    for application_id, institution_id, created_at in rows:
        due = due_time(created_at, limits[institution_id], closes_at)
        for stopped, resumed in pauses(changes.get(application_id, [])):
            if resumed is not None:
                due = postpone(due, paused_days(stopped, resumed, closes_at), closes_at)
        connection.execute(application.update().where(application.c.id == application_id).values(due_at=due))


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_application_assigned_to_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_application_due_at'))
        batch_op.drop_index(batch_op.f('ix_application_assigned_to_id'))
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('assigned_to_id')
        batch_op.drop_column('due_at')
