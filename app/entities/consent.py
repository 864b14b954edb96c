"""Consents (信用主体授权) and the log of every view of a subject's credit data."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, and_
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import Timestamped, utcnow


class Consent(Timestamped, db.Model):
    """A consent artefact: who may use which data, for what, over which period, for how long."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    purpose_code: Mapped[str] = mapped_column(String(16))
    purpose_text: Mapped[str] = mapped_column(Text)
    data_categories: Mapped[list] = mapped_column(JSON)
    data_from: Mapped[date | None]
    data_to: Mapped[date | None]
    fetch_frequency: Mapped[str] = mapped_column(String(16), default="once")
    data_life_days: Mapped[int] = mapped_column(default=30)
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="active")
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None]

    institution: Mapped["Institution"] = relationship()  # noqa: F821

    @hybrid_method
    def is_in_force(self, now: datetime) -> bool:
        """True while the consent is active and `now` lies in its window [valid_from, valid_to)."""
        return self.status == "active" and self.valid_from <= now < self.valid_to

    @is_in_force.inplace.expression
    @classmethod
    def _is_in_force_expression(cls, now: datetime):
        """The same test in SQL (a paused, revoked or expired consent is not in force)."""
        return and_(cls.status == "active", cls.valid_from <= now, cls.valid_to > now)

    @hybrid_method
    def covers(self, subject_id, institution_id, purpose: str, now: datetime) -> bool:
        """True when this is `subject_id`'s consent to `institution_id` for `purpose`, in force at `now`."""
        return (self.subject_id == subject_id and self.institution_id == institution_id
                and self.purpose_code == purpose and self.is_in_force(now))

    @covers.inplace.expression
    @classmethod
    def _covers_expression(cls, subject_id, institution_id, purpose: str, now: datetime):
        """The same test in SQL; `subject_id` and `institution_id` may be columns of another table."""
        return and_(cls.subject_id == subject_id, cls.institution_id == institution_id,
                    cls.purpose_code == purpose, cls.is_in_force(now))

    def status_at(self, now: datetime) -> str:
        """The status as the firm reads it: `expired` once the window has ended, though still marked active."""
        return "expired" if self.status == "active" and now >= self.valid_to else self.status


class DataAccessLog(db.Model):
    """One view of a subject's credit data (查询记录), visible to the subject."""

    __tablename__ = "data_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    what: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped["User | None"] = relationship()  # noqa: F821
    institution: Mapped["Institution | None"] = relationship()  # noqa: F821
