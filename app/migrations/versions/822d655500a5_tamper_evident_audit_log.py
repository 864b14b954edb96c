"""tamper-evident audit log

Revision ID: 822d655500a5
Revises: 3777ba1ff0ce
Create Date: 2026-12-05 12:41:07.639534

Every audit entry is chained to the one before it (docs/security.md, "Audit log"): existing entries
get their `prev_hash` and `row_hash` in id order, `audit_chain_head` records the last one, and
triggers then refuse UPDATE and DELETE of entries (and of the head, which may only move forward).
The trigger statements are written out here as they stood when this revision was made; the ORM
(app/entities/audit.py) creates the same ones for a database built without migrations.
"""
from alembic import op
import sqlalchemy as sa

from app.common.chain import GENESIS, entry_hash


# revision identifiers, used by Alembic.
revision = '822d655500a5'
down_revision = '3777ba1ff0ce'
branch_labels = None
depends_on = None

audit_log = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('at', sa.DateTime),
                     sa.column('actor_id', sa.Integer), sa.column('action', sa.String),
                     sa.column('target_type', sa.String), sa.column('target_id', sa.Integer),
                     sa.column('details', sa.JSON), sa.column('ip', sa.String),
                     sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String))
chain_head = sa.table('audit_chain_head', sa.column('id', sa.Integer), sa.column('last_id', sa.Integer),
                      sa.column('last_hash', sa.String))
CHUNK = 1000

TRIGGERS = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING MESSAGE = 'audit log is append-only: ' || TG_OP || ' refused',
                                  ERRCODE = 'insufficient_privilege';
        END $$""",
        """CREATE OR REPLACE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.last_id < OLD.last_id THEN
                RAISE EXCEPTION USING MESSAGE = 'audit chain head only moves forward',
                                      ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END $$""",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
        "CREATE TRIGGER audit_chain_head_kept BEFORE DELETE ON audit_chain_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
        "CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
        "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward()",
    ],
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END",
        "CREATE TRIGGER audit_chain_head_kept BEFORE DELETE ON audit_chain_head "
        "BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END",
        "CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON audit_chain_head "
        "WHEN NEW.last_id < OLD.last_id BEGIN SELECT RAISE(ABORT, 'audit chain head only moves forward'); END",
    ],
}
DROP_TRIGGERS = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
        "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
        "DROP TRIGGER IF EXISTS audit_chain_head_kept ON audit_chain_head",
        "DROP TRIGGER IF EXISTS audit_chain_head_no_truncate ON audit_chain_head",
        "DROP TRIGGER IF EXISTS audit_chain_head_forward ON audit_chain_head",
        "DROP FUNCTION IF EXISTS audit_append_only()",
        "DROP FUNCTION IF EXISTS audit_head_forward()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_log_no_update",
        "DROP TRIGGER IF EXISTS audit_log_no_delete",
        "DROP TRIGGER IF EXISTS audit_chain_head_kept",
        "DROP TRIGGER IF EXISTS audit_chain_head_forward",
    ],
}


def _chain_existing_entries(connection):
    """Seal every entry in id order, a chunk at a time; returns (last id, last hash)."""
    last_id, last_hash = 0, GENESIS
    while True:
        rows = connection.execute(sa.select(audit_log).where(audit_log.c.id > last_id)
                                  .order_by(audit_log.c.id).limit(CHUNK)).all()
        if not rows:
            return last_id, last_hash
        for row in rows:
            row_hash = entry_hash(row.id, row.at, row.actor_id, row.action, row.target_type, row.target_id,
                                  row.details, row.ip, last_hash)
            connection.execute(audit_log.update().where(audit_log.c.id == row.id)
                               .values(prev_hash=last_hash, row_hash=row_hash))
            last_id, last_hash = row.id, row_hash


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    last_id, last_hash = _chain_existing_entries(connection)
    connection.execute(chain_head.insert().values(id=1, last_id=last_id, last_hash=last_hash))

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('row_hash', existing_type=sa.String(length=64), nullable=False)
    for statement in TRIGGERS.get(connection.dialect.name, []):
        op.execute(statement)


def downgrade():
    for statement in DROP_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')

    op.drop_table('audit_chain_head')
