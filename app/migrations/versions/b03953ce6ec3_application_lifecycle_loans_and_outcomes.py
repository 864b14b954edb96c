"""application lifecycle, loans and outcomes

Revision ID: b03953ce6ec3
Revises: c72b54e9a395
Create Date: 2026-12-05 07:43:58.661489

The application carries a version (optimistic locking), the one-time token of its form and the
full offer of an approval; a need carries its form's token; at most one application per need and
product may be pending (a partial unique index: should an older database hold duplicates from a
double submit, the later ones are withdrawn with an event saying why). Loans gain their account
reference, term, repayment method and recorder; monthly outcomes their month. `loan` and
`repayment_outcome` had no writer before this revision, so they are empty; a database holding rows
written by other means is refused rather than given made-up references and months.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

PENDING = "status IN ('submitted', 'in_review', 'info_requested', 'approved', 'offer_accepted')"
DUPLICATE_NOTE = "重复提交的申请，已由系统撤回 / a duplicate submission, withdrawn by the platform"

application = sa.table('application', sa.column('id', sa.Integer), sa.column('need_id', sa.Integer),
                       sa.column('product_id', sa.Integer), sa.column('status', sa.String))
application_event = sa.table('application_event', sa.column('application_id', sa.Integer),
                             sa.column('from_status', sa.String), sa.column('to_status', sa.String),
                             sa.column('at', sa.DateTime), sa.column('note', sa.String))


# revision identifiers, used by Alembic.
revision = 'b03953ce6ec3'
down_revision = 'c72b54e9a395'
branch_labels = None
depends_on = None


def _refuse_rows(table):
    # `table` is one of this migration's own table names, never input.
    if op.get_bind().execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar():  # nosec B608
        raise RuntimeError(f"{table} holds rows written outside the platform: map them to the new columns by hand")


def _withdraw_duplicates():
    """Keep the first pending application of each need and product; withdraw the others, recorded."""
    bind = op.get_bind()
    pending = sa.text(PENDING)
    first = (sa.select(application.c.need_id, application.c.product_id, sa.func.min(application.c.id).label('id'))
             .where(pending).group_by(application.c.need_id, application.c.product_id).subquery())
    duplicates = bind.execute(
        sa.select(application.c.id, application.c.status)
        .join(first, sa.and_(first.c.need_id == application.c.need_id, first.c.product_id == application.c.product_id))
        .where(pending, application.c.id != first.c.id)).all()
    for row_id, status in duplicates:
        bind.execute(application_event.insert().values(application_id=row_id, from_status=status,
                                                       to_status='withdrawn', at=datetime.now(UTC).replace(tzinfo=None),
                                                       note=DUPLICATE_NOTE))
        bind.execute(application.update().where(application.c.id == row_id).values(status='withdrawn'))


def upgrade():
    _refuse_rows('loan')
    _refuse_rows('repayment_outcome')
    _withdraw_duplicates()
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('form_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('approved_term_months', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_repayment', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('approved_guarantee', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('approved_collateral', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('offer_valid_until', sa.Date(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_application_form_token'), ['form_token'])
        batch_op.create_index('uq_application_one_pending', ['need_id', 'product_id'], unique=True, sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))

    with op.batch_alter_table('financing_need', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_token', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_financing_need_form_token'), ['form_token'])

    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column('term_months', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('repayment', sa.String(length=16), nullable=False))
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_loan_status'), ['status'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_loan_institution_id'), ['institution_id', 'reference'])
        batch_op.create_foreign_key(batch_op.f('fk_loan_recorded_by_id_user_account'), 'user_account', ['recorded_by_id'], ['id'])

    with op.batch_alter_table('repayment_outcome', schema=None) as batch_op:
        batch_op.add_column(sa.Column('month', sa.Date(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_repayment_outcome_loan_id'), ['loan_id', 'month'])



def downgrade():
    with op.batch_alter_table('repayment_outcome', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_repayment_outcome_loan_id'), type_='unique')
        batch_op.drop_column('month')

    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_loan_recorded_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_loan_institution_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_loan_status'))
        batch_op.drop_column('recorded_by_id')
        batch_op.drop_column('repayment')
        batch_op.drop_column('term_months')
        batch_op.drop_column('reference')

    with op.batch_alter_table('financing_need', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_financing_need_form_token'), type_='unique')
        batch_op.drop_column('form_token')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index('uq_application_one_pending', sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
        batch_op.drop_constraint(batch_op.f('uq_application_form_token'), type_='unique')
        batch_op.drop_column('offer_valid_until')
        batch_op.drop_column('approved_collateral')
        batch_op.drop_column('approved_guarantee')
        batch_op.drop_column('approved_repayment')
        batch_op.drop_column('approved_term_months')
        batch_op.drop_column('form_token')
        batch_op.drop_column('version')

