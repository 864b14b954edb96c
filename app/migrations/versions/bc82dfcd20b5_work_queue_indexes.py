"""work queue indexes

Revision ID: bc82dfcd20b5
Revises: e79621e4152b
Create Date: 2026-12-05 09:41:06.000000

The lender's work queue reads an institution's open applications in due order, and under it the
institution's latest decisions; the admin's response times read its decisions of the last 90 days.
With only single-column indexes PostgreSQL walked the due-time index through every institution's
decided applications before it found 50 open ones, and sorted all of an institution's decisions to
show ten, so the page slowed as the history grew (benchmarks.market, docs/benchmarks.md). A partial
index of the open applications by institution and due time, and one of the decisions by institution
and time, make both follow the size of the queue. The response times look for the information
requests among the window's decisions: a partial index of those events spares a scan of every event.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bc82dfcd20b5'
down_revision = 'e79621e4152b'
branch_labels = None
depends_on = None

OPEN = "status IN ('submitted', 'in_review', 'info_requested')"
AWAITING_FIRM = "to_status IN ('info_requested')"


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index('ix_application_open_queue', ['institution_id', 'due_at', 'id'], unique=False,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
        batch_op.create_index('ix_application_institution_decided', ['institution_id', 'decided_at', 'id'],
                              unique=False)

    with op.batch_alter_table('application_event', schema=None) as batch_op:
        batch_op.create_index('ix_application_event_awaiting_firm', ['application_id'], unique=False,
                              sqlite_where=sa.text(AWAITING_FIRM), postgresql_where=sa.text(AWAITING_FIRM))


def downgrade():
    with op.batch_alter_table('application_event', schema=None) as batch_op:
        batch_op.drop_index('ix_application_event_awaiting_firm', sqlite_where=sa.text(AWAITING_FIRM),
                            postgresql_where=sa.text(AWAITING_FIRM))

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index('ix_application_institution_decided')
        batch_op.drop_index('ix_application_open_queue', sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
