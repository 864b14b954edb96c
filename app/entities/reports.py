"""Issued credit reports (信用报告): what was issued to whom, and the hash that verifies it."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import utcnow


class ReportIssue(db.Model):
    """One credit report as issued: its public code, the subject, the data date and the sha256 of its
    canonical content (the JSON embedded in the PDF), and who it was issued to."""

    __tablename__ = "report_issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    as_of: Mapped[date]
    sha256: Mapped[str] = mapped_column(String(64))
    # "firm" (the subject itself) or "institution" (a lender, under an application's consent).
    issued_to: Mapped[str] = mapped_column(String(12))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    subject: Mapped["CreditSubject"] = relationship()  # noqa: F821
