"""Credit scores, red/black lists, objections, repairs and model versions."""
from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import BackgroundRun, Timestamped, utcnow


class ModelVersion(db.Model):
    """A registered credit model version; only a person activates one.

    The active version is the row with `is_active`: the one home of that fact, written in the
    activating request's transaction. The partial unique index lets at most one row be active.
    """

    __tablename__ = "model_version"
    __table_args__ = (
        Index("uq_model_version_one_active", "is_active", unique=True,
              sqlite_where=text("is_active"), postgresql_where=text("is_active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_active: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[datetime | None]
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    activation_reason: Mapped[str | None] = mapped_column(Text)


class CreditScore(db.Model):
    """A subject's score as computed by one model version from data as of one date."""

    __tablename__ = "credit_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id"))
    pd: Mapped[float] = mapped_column(Float)
    score: Mapped[int]
    grade: Mapped[str] = mapped_column(String(2))
    reasons: Mapped[list] = mapped_column(JSON)
    # The SHAP chart: base log-odds, the reason features that moved the risk most, the rest as one sum.
    contributions: Mapped[dict | None] = mapped_column(JSON)
    completeness: Mapped[dict] = mapped_column(JSON)
    data_as_of: Mapped[date]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoringRun(BackgroundRun, db.Model):
    """One re-scoring run (after an activation, an ingestion, or on request): its progress and figures."""

    __tablename__ = "scoring_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_version: Mapped[str | None] = mapped_column(String(64))
    subjects_total: Mapped[int | None]
    subjects_scored: Mapped[int] = mapped_column(default=0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Which data the scores were computed from: the snapshot manifest's digest on Dask, else the
    # digest of the loaded batches (snapshot.database_fingerprint).
    data_fingerprint: Mapped[str | None] = mapped_column(String(80))


class ListEntry(Timestamped, db.Model):
    """A red-list (守信激励) or black-list (失信惩戒) entry with its legal basis and exit terms.

    `list_kind` names one of the configured lists (LIST_KINDS), whose measures say what the entry
    does; `list_type` and `list_name` are copied from it when the entry is made. An entry found in a
    department record (a 失信被执行人 court case) points at that record.
    """

    __tablename__ = "list_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    list_kind: Mapped[str] = mapped_column(String(40), server_default="")
    list_type: Mapped[str] = mapped_column(String(8))
    list_name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(32), default="regulator", server_default="regulator")
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_record.id"), index=True)
    basis: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    exit_conditions: Mapped[str] = mapped_column(Text)
    notified_at: Mapped[datetime | None]
    listed_on: Mapped[date]
    # The end of the listing term, when the basis sets one; the entry is left on that day.
    ends_on: Mapped[date | None]
    removed_on: Mapped[date | None]
    removed_reason: Mapped[str | None] = mapped_column(Text)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    subject: Mapped["CreditSubject"] = relationship()  # noqa: F821


class Objection(Timestamped, db.Model):
    """A subject's objection (异议) to a data item or a score; answered within 20 days."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_record.id"))
    credit_score_id: Mapped[int | None] = mapped_column(ForeignKey("credit_score.id"))
    kind: Mapped[str] = mapped_column(String(16), default="data")
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")
    due_on: Mapped[date]
    response: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The record that corrected the disputed one, when the objection was upheld with a correction.
    correction_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_record.id"))

    subject: Mapped["CreditSubject"] = relationship()  # noqa: F821
    record: Mapped["SourceRecord | None"] = relationship(foreign_keys=[source_record_id])  # noqa: F821


class RepairRequest(Timestamped, db.Model):
    """A request for credit repair (信用修复) of a penalty or other negative record."""

    __tablename__ = "repair_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_record.id"))
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # The corrected penalty record (marked repaired) that superseded the one repaired.
    correction_record_id: Mapped[int | None] = mapped_column(ForeignKey("source_record.id"))

    subject: Mapped["CreditSubject"] = relationship()  # noqa: F821
    record: Mapped["SourceRecord | None"] = relationship(foreign_keys=[source_record_id])  # noqa: F821
