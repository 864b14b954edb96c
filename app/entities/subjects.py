"""Credit subjects (信用主体) and the department records gathered about them."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import BackgroundRun, Money, Timestamped, utcnow


class CreditSubject(Timestamped, db.Model):
    """An enterprise, individual business, cooperative or farmer household."""

    __tablename__ = "credit_subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(120))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    # Early pilot codes can fail the check digit: kept, but flagged.
    uscc_check_failed: Mapped[bool] = mapped_column(default=False)
    household_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    town_code: Mapped[str] = mapped_column(String(9))
    industry_code: Mapped[str | None] = mapped_column(String(5))
    established_on: Mapped[date | None]
    registered_capital: Mapped[Decimal | None] = mapped_column(Money)
    size_class: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), default="active")
    legal_rep_name: Mapped[str | None] = mapped_column(String(60))
    # The legal representative's (a farmer household's: its head's) ID number is never stored whole: a
    # mask for people, and a keyed hash (app/common/idnumbers.py) to match a person who proves it.
    legal_rep_id_masked: Mapped[str | None] = mapped_column(String(18))
    legal_rep_id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # A farmer registered without a household code names the village (村) within its town.
    village: Mapped[str | None] = mapped_column(String(40))

    needs: Mapped[list["FinancingNeed"]] = relationship(back_populates="subject")  # noqa: F821

    @property
    def identifier(self) -> str:
        """The code the subject is known by: USCC, or the household identifier of a farmer."""
        return self.uscc or self.household_id or ""


DUPLICATE_BATCHES_EXCLUDED = "status <> 'duplicate'"
CURRENT_RECORDS = "superseded_by_id IS NULL"
SUPERSEDED_RECORDS = "superseded_by_id IS NOT NULL"


class SourceBatch(db.Model):
    """One department file received: where it came from and what loading it did."""

    __tablename__ = "source_batch"
    __table_args__ = (
        # One batch per file per source: a file sent twice, even at the same moment, is loaded once.
        # Batches marked "duplicate" were second loads of one file made before this index existed.
        Index("uq_source_batch_file", "source", "file_sha256", unique=True,
              sqlite_where=text(DUPLICATE_BATCHES_EXCLUDED), postgresql_where=text(DUPLICATE_BATCHES_EXCLUDED)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="loading")
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_inserted: Mapped[int] = mapped_column(default=0)
    rows_updated: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    # Of the unchanged rows, those equal to a version since corrected (an older file sent again).
    rows_stale: Mapped[int] = mapped_column(default=0, server_default="0")
    rows_rejected: Mapped[int] = mapped_column(default=0)
    rows_duplicate: Mapped[int] = mapped_column(default=0)
    rows_warned: Mapped[int] = mapped_column(default=0)
    reject_file: Mapped[str | None] = mapped_column(String(255))
    # The uploaded original the platform keeps (under UPLOAD_DIR; none for a file loaded from the
    # operator's own folder), and when it and the reject report were removed, past their retention:
    # the batch itself, with its checksum and counts, stays.
    kept_file: Mapped[str | None] = mapped_column(String(500))
    files_removed_at: Mapped[datetime | None]
    # Rejected rows per reason, e.g. {"必填项为空": 3}: the data admin's top reject reasons.
    reject_reasons: Mapped[dict] = mapped_column(JSON, default=dict)
    encoding: Mapped[str | None] = mapped_column(String(16))
    finished_at: Mapped[datetime | None]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class IngestionRun(BackgroundRun, db.Model):
    """One upload of the data admin loaded as a background job: the files, progress per file, the
    engine's summary when done, and the scoring run it started for the subjects whose records changed."""

    __tablename__ = "ingestion_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_name: Mapped[str] = mapped_column(String(255))
    # The saved export files (paths under UPLOAD_DIR, which the job worker reads too).
    paths: Mapped[list] = mapped_column(JSON)
    files_total: Mapped[int] = mapped_column(default=0)
    files_done: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict | None] = mapped_column(JSON)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    scoring_run_id: Mapped[int | None] = mapped_column(ForeignKey("scoring_run.id"))


class SourceRecord(db.Model):
    """One department fact about a subject, with its provenance; corrections supersede."""

    __tablename__ = "source_record"
    __table_args__ = (
        Index("ix_source_record_subject_source_period", "subject_id", "source", "period"),
        # One current record per fact: the natural key identifies a record within its source, and
        # every earlier version points at the one that superseded it.
        Index("uq_source_record_current", "source", "natural_key", unique=True,
              sqlite_where=text(CURRENT_RECORDS), postgresql_where=text(CURRENT_RECORDS)),
        # The earlier versions of a key (few), which a re-sent older row is compared with.
        Index("ix_source_record_superseded_key", "source", "natural_key",
              sqlite_where=text(SUPERSEDED_RECORDS), postgresql_where=text(SUPERSEDED_RECORDS)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"))
    source: Mapped[str] = mapped_column(String(32))
    natural_key: Mapped[str] = mapped_column(String(200))
    period: Mapped[date | None]
    payload: Mapped[dict] = mapped_column(JSON)
    # A hash of the typed payload: a re-sent row with the same hash changes nothing.
    payload_hash: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[int] = mapped_column(ForeignKey("source_batch.id"))
    raw_row_number: Mapped[int]
    raw_row: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("source_record.id"))

    batch: Mapped[SourceBatch] = relationship()
