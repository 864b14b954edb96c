"""Shared column helpers for the ORM entities."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.common import clock

# Money is kept in 元 with cents; 16 digits reach 万亿元.
Money = Numeric(16, 2, asdecimal=True)


def utcnow():
    """Current UTC time, naive, as stored in every timestamp column (shown in local time); the
    platform's clock (app/common/clock.py), which a replay of the past may set."""
    return clock.utcnow()


def refresh_statistics(session, *tables):
    """After a bulk write (an ingest, a scoring or matching run, a market replay): PostgreSQL's planner
    statistics of `tables` brought up to date at once. Until autovacuum's next pass the planner would take a
    table of 400,000 fresh records for a few rows and scan a whole source to show one firm's (200 ms instead
    of 0.1 ms a query). SQLite plans by its indexes without statistics, so nothing is done there."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote_identifier
    for table in tables:
        connection.exec_driver_sql(f"ANALYZE {quote(table)}")


def bulk_insert(session, table, columns, rows):
    """Insert `rows` (tuples in `columns` order) into `table` inside the session's transaction: COPY on
    PostgreSQL, one executemany on SQLite. `table` and `columns` are names from code, never input."""
    if not rows:
        return
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # nosec B608


def money(value) -> Decimal:
    """Round a number of 元 to cents."""
    return Decimal(value).quantize(Decimal("0.01"))


class BackgroundRun:
    """What every long run (scoring, re-matching) records: why it started, its state, its progress
    heartbeat and how it ended. A run that stops reporting progress is taken for dead."""

    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def seconds(self):
        """How long the run took (or has taken until its last progress report)."""
        return ((self.finished_at or self.heartbeat_at) - self.started_at).total_seconds()


class Timestamped:
    """Adds `created_at`, filled when the row is inserted."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
