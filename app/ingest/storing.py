"""Writing validated rows to the database fast: COPY on PostgreSQL, executemany on SQLite; one load of
a source at a time."""
import hashlib

from sqlalchemy import bindparam, select, text, update

from app.entities import SourceRecord
from app.entities.base import bulk_insert

SUBJECTS_PER_LOOKUP = 500  # well below any backend's limit of bound parameters
KEYS_PER_LOOKUP = 500
# How long a load waits on SQLite for another load's write to end (a large file takes minutes; the
# connection's usual wait is a few seconds, for short page writes).
SQLITE_LOCK_WAIT_MS = 15 * 60 * 1000
RECORD_COLUMNS = ("subject_id", "source", "natural_key", "period", "payload", "payload_hash", "batch_id",
                  "raw_row_number", "raw_row", "received_at")


def lock_source(session, source_name):
    """Hold the source for this transaction: another load of it waits until this one commits or rolls
    back, then sees what it wrote (the checksum of its file, its current records).

    PostgreSQL: a transaction-level advisory lock keyed by the source. SQLite has one writer at a
    time: a write statement takes the database's write lock now instead of at the first insert.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(source_name)})
        return
    waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_LOCK_WAIT_MS}")
    try:
        connection.exec_driver_sql("UPDATE source_batch SET status = status WHERE id IS NULL")
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(waited)}")


def _lock_key(source_name):
    """A signed 64-bit advisory-lock key of the source's loads, the same in every process."""
    digest = hashlib.sha256(f"yintai.ingest.{source_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def insert_records(session, rows):
    """Insert record tuples (in RECORD_COLUMNS order) inside the session's transaction."""
    bulk_insert(session, "source_record", RECORD_COLUMNS, rows)


def current_records(session, source_name, periods=None, subject_ids=None, subject_range=None):
    """natural key → (id, payload hash) of the source's records that no correction superseded.

    `periods` (first, last), when given, keeps only the records of those periods; `subject_ids`,
    when given and few (a file of corrections), only the records of those subjects, found through
    the subject index instead of among all the source's records; `subject_range` (first, last id),
    when given, keeps only the records of subjects in that range (a chunk of a streamed export).
    Many subjects are not looked up a chunk at a time: one query per chunk can cost a scan each (a
    prepared statement's generic plan on PostgreSQL), where one query costs one scan at most.
    """
    table = SourceRecord.__table__
    query = (select(table.c.natural_key, table.c.id, table.c.payload_hash)
             .where(table.c.source == source_name, table.c.superseded_by_id.is_(None)))
    if periods is not None:
        query = query.where(table.c.period.between(*periods))
    if subject_range is not None:  # a streamed chunk: only its subjects' records, in flat memory
        query = query.where(table.c.subject_id.between(*subject_range))
    if subject_ids is not None and len(subject_ids) <= SUBJECTS_PER_LOOKUP:
        if not subject_ids:
            return {}
        query = query.where(table.c.subject_id.in_(sorted(subject_ids)))
    # Plain rows from the connection (the ORM's result handling costs more than the query), after
    # the flush that `session.execute` would do.
    session.flush()
    return {key: (record_id, digest) for key, record_id, digest in session.connection().execute(query)}


def superseded_hashes(session, source_name, keys):
    """natural key → the payload hashes of the versions of it that a correction superseded (few: only
    the keys given, looked up through the (source, natural key) index a chunk at a time)."""
    table = SourceRecord.__table__
    keys = sorted(set(keys))
    found = {}
    session.flush()
    for start in range(0, len(keys), KEYS_PER_LOOKUP):
        query = (select(table.c.natural_key, table.c.payload_hash)
                 .where(table.c.source == source_name, table.c.natural_key.in_(keys[start:start + KEYS_PER_LOOKUP]),
                        table.c.superseded_by_id.is_not(None)))
        for key, digest in session.connection().execute(query):
            found.setdefault(key, set()).add(digest)
    return found


def retire(session, old_ids):
    """Take the records about to be replaced out of the current ones, before their corrections are
    inserted: at most one current record per key, at every moment (a unique index holds it). Each
    points at itself until `supersede` points it at its correction, in the same transaction."""
    if not old_ids:
        return
    table = SourceRecord.__table__
    statement = update(table).where(table.c.id == bindparam("old_id")).values(superseded_by_id=table.c.id)
    session.connection().execute(statement, [{"old_id": old} for old in old_ids])


def supersede(session, source_name, batch_id, old_ids_by_key):
    """Point each replaced (retired) record at the record of `batch_id` that corrects it."""
    if not old_ids_by_key:
        return
    table = SourceRecord.__table__
    connection = session.connection()
    # Of this batch's records, the current ones: a key sent again in a later chunk of a streamed
    # export retires the batch's own earlier record (retire points it at itself until here).
    query = select(table.c.natural_key, table.c.id).where(table.c.batch_id == batch_id, table.c.source == source_name,
                                                          table.c.superseded_by_id.is_(None))
    new_ids = dict(connection.execute(query).all())
    statement = (update(table).where(table.c.id == bindparam("old_id"))
                 .values(superseded_by_id=bindparam("new_id")))
    connection.execute(statement, [{"old_id": old, "new_id": new_ids[key]} for key, old in old_ids_by_key.items()])
