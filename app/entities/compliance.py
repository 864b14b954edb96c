"""Compliance flags: what a compliance rule found, and the regulator's acknowledgement of it."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import utcnow


class ComplianceFlag(db.Model):
    """One finding of one rule (app/services/compliance.py) about one record; found once, kept after
    the record changes, and acknowledged by a regulator with a note."""

    __tablename__ = "compliance_flag"
    __table_args__ = (
        UniqueConstraint("rule", "target_type", "target_id"),
        Index("ix_compliance_flag_open", "acknowledged_at", "rule", "institution_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    # The institution the finding is about (None: none is, e.g. a view by a user of no institution).
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime | None]
    acknowledgement_note: Mapped[str | None] = mapped_column(String(500))

    institution: Mapped["Institution | None"] = relationship()  # noqa: F821
    acknowledged_by: Mapped["User | None"] = relationship()  # noqa: F821
