"""identity releases become screening consents

Revision ID: 16c71a347e7c
Revises: b51d9d464b6c
Create Date: 2026-12-05 10:02:38.410498

A firm's release of its identity to a lender's screening (在线优企筛选) is now a consent for the
`screening` purpose, checked and logged like every other consent (issue 13). Each identity_release
row becomes a consent row of the same firm, institution, granter and status (active or revoked);
a release had no end, so an active one runs SCREENING_CONSENT_DAYS (180) from this upgrade, a revoked
one ended when it was revoked. Then the identity_release table is dropped. Downgrade moves the
screening consents back into a recreated identity_release table (their 查询记录 entries keep their
purpose but lose the consent they named).
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '16c71a347e7c'
down_revision = 'b51d9d464b6c'
branch_labels = None
depends_on = None

SCREENING_DAYS = 180
PURPOSE_TEXT = "在线优企筛选：向该机构展示本主体的名称、统一社会信用代码、融资需求和信用等级"

consent = sa.table(
    "consent", sa.column("id", sa.Integer), sa.column("subject_id", sa.Integer),
    sa.column("institution_id", sa.Integer), sa.column("purpose_code", sa.String),
    sa.column("purpose_text", sa.Text), sa.column("data_categories", sa.JSON),
    sa.column("fetch_frequency", sa.String), sa.column("data_life_days", sa.Integer),
    sa.column("valid_from", sa.DateTime), sa.column("valid_to", sa.DateTime), sa.column("status", sa.String),
    sa.column("granted_by_id", sa.Integer), sa.column("revoked_at", sa.DateTime), sa.column("created_at", sa.DateTime))
release = sa.table(
    "identity_release", sa.column("id", sa.Integer), sa.column("subject_id", sa.Integer),
    sa.column("institution_id", sa.Integer), sa.column("released_by_id", sa.Integer), sa.column("status", sa.String),
    sa.column("revoked_at", sa.DateTime), sa.column("revoked_by_id", sa.Integer), sa.column("created_at", sa.DateTime))
access_log = sa.table("data_access_log", sa.column("consent_id", sa.Integer))


def _as_consent(row, now):
    """The screening consent a release row stands for."""
    revoked = row.status != "active"
    ended = row.revoked_at or row.created_at
    return {"subject_id": row.subject_id, "institution_id": row.institution_id, "purpose_code": "screening",
            "purpose_text": PURPOSE_TEXT, "data_categories": ["registration", "credit_score"],
            "fetch_frequency": "each_view", "data_life_days": 0, "valid_from": row.created_at,
            "valid_to": ended if revoked else max(now, row.created_at) + timedelta(days=SCREENING_DAYS),
            "status": "revoked" if revoked else "active", "granted_by_id": row.released_by_id,
            "revoked_at": row.revoked_at if revoked else None, "created_at": row.created_at}


def upgrade():
    connection = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [_as_consent(row, now) for row in connection.execute(sa.select(release).order_by(release.c.id))]
    if rows:
        op.bulk_insert(consent, rows)
    with op.batch_alter_table('identity_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_release_institution_id'))
        batch_op.drop_index(batch_op.f('ix_identity_release_subject_id'))
    op.drop_table('identity_release')


def downgrade():
    op.create_table('identity_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_identity_release_institution_id_institution')),
    sa.ForeignKeyConstraint(['released_by_id'], ['user_account.id'], name=op.f('fk_identity_release_released_by_id_user_account')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_identity_release_revoked_by_id_user_account')),
    sa.ForeignKeyConstraint(['subject_id'], ['credit_subject.id'], name=op.f('fk_identity_release_subject_id_credit_subject')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_release'))
    )
    with op.batch_alter_table('identity_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_release_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_release_institution_id'), ['institution_id'], unique=False)
    connection = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    screening = sa.select(consent).where(consent.c.purpose_code == "screening").order_by(consent.c.id)
    rows = [{"subject_id": row.subject_id, "institution_id": row.institution_id, "released_by_id": row.granted_by_id,
             "status": "active" if row.status == "active" and row.valid_to > now else "revoked",
             "revoked_at": row.revoked_at,
             "created_at": row.created_at} for row in connection.execute(screening)]
    if rows:
        op.bulk_insert(release, rows)
    screening_ids = sa.select(consent.c.id).where(consent.c.purpose_code == "screening")
    op.execute(access_log.update().where(access_log.c.consent_id.in_(screening_ids)).values(consent_id=None))
    op.execute(consent.delete().where(consent.c.purpose_code == "screening"))
