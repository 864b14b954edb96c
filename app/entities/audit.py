"""The audit log of actions that change what the platform says or who may see what.

The log is append-only and hash-chained (docs/security.md, "Audit log"): each entry stores the hash of
the entry before it and its own hash over a canonical form (app/common/chain.py), sealed when the
session flushes it, so every writer — `audit.record` or a plain `session.add` — chains alike. Database
triggers refuse UPDATE and DELETE of entries; `audit_chain_head` holds the last sealed entry, so that
a deleted tail shows too, and its row is the lock that keeps two writers from chaining onto one entry.
"""
from datetime import datetime

from sqlalchemy import DDL, JSON, ForeignKey, String, event, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.common.chain import GENESIS, entry_hash
from app.extensions import db

from .base import utcnow


class AuditEntry(db.Model):
    """One audited action: who did what to which record, when and from where; chained to the one before."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped["User | None"] = relationship()  # noqa: F821

    def computed_hash(self):
        """The hash this entry's fields give (equal to `row_hash` unless the row was changed)."""
        return entry_hash(self.id, self.at, self.actor_id, self.action, self.target_type, self.target_id,
                          self.details, self.ip, self.prev_hash)


class AuditChainHead(db.Model):
    """The one row saying which entry ends the chain and its hash (id 1)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


HEAD_ID = 1
# INSERT … ON CONFLICT DO NOTHING, per dialect: how the head is created when two writers find none.
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

# The triggers that make the log append-only, per dialect; the migration creates the same ones.
APPEND_ONLY_DDL = {
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
# What a database superuser would run to get round them (tests that simulate tampering do).
DROP_APPEND_ONLY_DDL = {
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

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        # Once every table exists: `create_all` makes the two tables in no fixed order.
        event.listen(db.metadata, "after_create",
                     DDL(_statement.replace("%", "%%")).execute_if(dialect=_dialect))


def _lock_head(session):
    """Lock the chain head (PostgreSQL: its row; SQLite: the database's one writer lock) and return it.

    Writing first is what makes it a lock on SQLite too: a read alone would not keep another writer out
    between reading the head and inserting after it. A missing head (a database built without the
    migration) is created at the last entry there is; of two writers creating it at once, one waits for
    the other's and then locks that.
    """
    lock = update(AuditChainHead.__table__).where(AuditChainHead.id == HEAD_ID).values(last_id=AuditChainHead.last_id)
    if not session.execute(lock).rowcount:
        last = session.execute(select(AuditEntry.id, AuditEntry.row_hash).order_by(AuditEntry.id.desc())
                               .limit(1)).first()
        insert = _INSERTS[session.get_bind().dialect.name](AuditChainHead.__table__).values(
            id=HEAD_ID, last_id=last.id if last else 0, last_hash=last.row_hash if last else GENESIS)
        session.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
        session.execute(lock)
    return session.get(AuditChainHead, HEAD_ID, populate_existing=True)


def _next_ids(session, head, count):
    """`count` new entry ids after every existing one, taken while the head is locked (so no other
    writer takes them: ids follow the chain's order)."""
    start = max(head.last_id, session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))) + 1
    return list(range(start, start + count))


@event.listens_for(Session, "before_flush")
def _seal_new_entries(session, _flush_context, _instances):
    """Give every new entry its id, its predecessor's hash and its own hash, in the order they were added."""
    entries = sorted((o for o in session.new if isinstance(o, AuditEntry)), key=lambda o: inspect(o).insert_order)
    if not entries:
        return
    head = _lock_head(session)
    for entry, entry_id in zip(entries, _next_ids(session, head, len(entries)), strict=True):
        entry.id = entry_id
        entry.at = entry.at or utcnow()
        entry.details = {} if entry.details is None else entry.details
        entry.prev_hash = head.last_hash
        entry.row_hash = entry.computed_hash()
        head.last_id, head.last_hash = entry.id, entry.row_hash
