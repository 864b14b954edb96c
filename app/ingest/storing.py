"""Writing validated rows to the database fast: COPY on PostgreSQL, executemany on SQLite."""
from sqlalchemy import bindparam, select, update

from app.entities import SourceRecord

RECORD_COLUMNS = ("subject_id", "source", "natural_key", "period", "payload", "payload_hash", "batch_id",
                  "raw_row_number", "raw_row", "received_at")


def insert_records(session, rows):
    """Insert record tuples (in RECORD_COLUMNS order) inside the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    names = ", ".join(RECORD_COLUMNS)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY source_record ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in RECORD_COLUMNS)
        connection.exec_driver_sql(f"INSERT INTO source_record ({names}) VALUES ({marks})", rows)


def current_records(session, source_name, periods=None):
    """natural key → (id, payload hash) of the source's records that no correction superseded.

    `periods` (first, last), when given, keeps only the records of those periods.
    """
    query = (select(SourceRecord.natural_key, SourceRecord.id, SourceRecord.payload_hash)
             .where(SourceRecord.source == source_name, SourceRecord.superseded_by_id.is_(None)))
    if periods is not None:
        query = query.where(SourceRecord.period.between(*periods))
    # Plain rows from the connection (the ORM's result handling costs more than the query), after
    # the flush that `session.execute` would do.
    session.flush()
    return {key: (record_id, digest) for key, record_id, digest in session.connection().execute(query)}


def supersede(session, source_name, batch_id, old_ids_by_key):
    """Point each replaced record at the record of `batch_id` that corrects it."""
    if not old_ids_by_key:
        return
    query = select(SourceRecord.natural_key, SourceRecord.id).where(
        SourceRecord.batch_id == batch_id, SourceRecord.source == source_name)
    new_ids = dict(session.execute(query).all())
    table = SourceRecord.__table__
    statement = (update(table).where(table.c.id == bindparam("old_id"))
                 .values(superseded_by_id=bindparam("new_id")))
    session.connection().execute(statement, [{"old_id": old, "new_id": new_ids[key]}
                                             for key, old in old_ids_by_key.items()])
