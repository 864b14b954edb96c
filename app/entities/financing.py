"""Financing needs, matches, applications with their events, loans, outcomes and the
lenders' 贷后反馈 files."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.vocab import AWAITING_FIRM_STATUSES, OPEN_APPLICATION_STATUSES, PENDING_APPLICATION_STATUSES
from app.extensions import db

from .base import BackgroundRun, Money, Timestamped, utcnow


class FinancingNeed(Timestamped, db.Model):
    """A firm's posted need (融资需求): amount in 元, term in months."""

    __tablename__ = "financing_need"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int]
    purpose: Mapped[str] = mapped_column(String(500))
    guarantee: Mapped[str] = mapped_column(String(16))
    max_rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    urgency: Mapped[str] = mapped_column(String(12), default="normal")
    status: Mapped[str] = mapped_column(String(12), default="open")
    # The one-time token of the form that posted it: a form submitted twice posts one need.
    form_token: Mapped[str | None] = mapped_column(String(32), unique=True)

    subject: Mapped["CreditSubject"] = relationship(back_populates="needs")  # noqa: F821


class Match(db.Model):
    """The matcher's verdict for one need and one product, with every rule's result."""

    __tablename__ = "match"
    __table_args__ = (UniqueConstraint("need_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("financing_need.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    product_version: Mapped[int | None]
    eligible: Mapped[bool]
    # Failed rules; 0 when eligible. Eligible rows keep every rule's result, others only the failed.
    failed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rule_results: Mapped[list] = mapped_column(JSON)
    fit: Mapped[float | None]
    approval_odds: Mapped[float | None]
    apr: Mapped[float | None]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchRun(BackgroundRun, db.Model):
    """One full re-match of the district (every open need against every published product): progress and figures."""

    __tablename__ = "match_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    needs_total: Mapped[int | None]
    needs_done: Mapped[int] = mapped_column(default=0)
    products: Mapped[int | None]
    # Needs × products evaluated: a large district passes 2³¹.
    pairs: Mapped[int | None] = mapped_column(BigInteger)
    matches_stored: Mapped[int] = mapped_column(BigInteger, default=0)


class MarketSimulation(Timestamped, db.Model):
    """The replayed market of one seed (`flask market simulate`): from when, and up to which moment it
    has been replayed; a later run carries on from there, so nothing is replayed twice."""

    __tablename__ = "market_simulation"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int] = mapped_column(unique=True)
    first_at: Mapped[datetime]
    simulated_until: Mapped[datetime]


class SimulationRun(BackgroundRun, db.Model):
    """One `flask market simulate` run (in-process or queued): what it was asked, its progress in
    months, and the counts it ended with."""

    __tablename__ = "simulation_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[int]
    months: Mapped[int]
    until: Mapped[datetime | None]
    truth_path: Mapped[str | None] = mapped_column(String(500))
    activity: Mapped[float] = mapped_column(default=1.0)
    months_done: Mapped[int] = mapped_column(default=0)
    figures: Mapped[dict | None] = mapped_column(JSON)


def _status_in(statuses, column="status"):
    """A partial index's condition: `column` holds one of `statuses`."""
    return text("{} IN ({})".format(column, ", ".join(f"'{code}'" for code in statuses)))


# At most one application per need and product on its way to a loan (a double submit makes one).
PENDING = _status_in(PENDING_APPLICATION_STATUSES)
# The work queue (docs/response-clock.md) reads an institution's open applications in due order, 50 at
# a time: an index of the open ones only, so that its cost follows the queue, not the decided history.
OPEN = _status_in(OPEN_APPLICATION_STATUSES)


class Application(Timestamped, db.Model):
    """A firm's application for a product; its status moves by recorded events."""

    __tablename__ = "application"
    __table_args__ = (
        Index("uq_application_one_pending", "need_id", "product_id", unique=True,
              sqlite_where=PENDING, postgresql_where=PENDING),
        Index("ix_application_open_queue", "institution_id", "due_at", "id", sqlite_where=OPEN, postgresql_where=OPEN),
        # An institution's decisions by time: its latest ones, and those of the response-time window.
        Index("ix_application_institution_decided", "institution_id", "decided_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("financing_need.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id"))
    # The product's terms the firm applied under (null for applications made before versioning).
    product_version_id: Mapped[int | None] = mapped_column(ForeignKey("product_version.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    # Optimistic lock: every change of status is an UPDATE … WHERE status = ? AND version = ?.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The one-time token of the apply form: a form submitted twice makes one application.
    form_token: Mapped[str | None] = mapped_column(String(32), unique=True)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_reasons: Mapped[list | None] = mapped_column(JSON)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    # The offer of an approval (授信批复): amount, rate, term, repayment, guarantee, valid until.
    approved_amount: Mapped[Decimal | None] = mapped_column(Money)
    approved_rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    # The offer's annualised total cost (IRR, fees included) as disclosed to the firm with the offer.
    approved_apr: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    approved_term_months: Mapped[int | None]
    approved_repayment: Mapped[str | None] = mapped_column(String(16))
    approved_guarantee: Mapped[str | None] = mapped_column(String(16))
    approved_collateral: Mapped[str | None] = mapped_column(String(200))
    offer_valid_until: Mapped[date | None]

    # The response clock (docs/response-clock.md): when the decision is due, who handles it, and when
    # the application was escalated to the institution's admin for being overdue.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    escalated_at: Mapped[datetime | None]

    need: Mapped[FinancingNeed] = relationship()
    product: Mapped["Product"] = relationship()  # noqa: F821
    product_version: Mapped["ProductVersion | None"] = relationship()  # noqa: F821
    subject: Mapped["CreditSubject"] = relationship()  # noqa: F821
    institution: Mapped["Institution"] = relationship()  # noqa: F821
    assigned_to: Mapped["User | None"] = relationship(foreign_keys=[assigned_to_id])  # noqa: F821
    events: Mapped[list["ApplicationEvent"]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id"
    )
    loan: Mapped["Loan | None"] = relationship(back_populates="application")


# The steps that stopped a response clock: measured response times (docs/response-clock.md) read the
# events of only the applications that have one.
AWAITING_FIRM = _status_in(AWAITING_FIRM_STATUSES, "to_status")


class ApplicationEvent(db.Model):
    """One step of an application: from which status to which, by whom, when."""

    __tablename__ = "application_event"
    __table_args__ = (
        Index("ix_application_event_awaiting_firm", "application_id", sqlite_where=AWAITING_FIRM,
              postgresql_where=AWAITING_FIRM),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))

    application: Mapped[Application] = relationship(back_populates="events")
    actor: Mapped["User | None"] = relationship()  # noqa: F821


class Loan(Timestamped, db.Model):
    """Money actually lent after an approval; its status follows the monthly reports."""

    __tablename__ = "loan"
    __table_args__ = (UniqueConstraint("institution_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    # The lender's loan account number (借款合同/贷款账号), unique within the institution.
    reference: Mapped[str] = mapped_column(String(64))
    principal: Mapped[Decimal] = mapped_column(Money)
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    term_months: Mapped[int]
    repayment: Mapped[str] = mapped_column(String(16))
    disbursed_on: Mapped[date]
    maturity_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="disbursed", index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    application: Mapped[Application | None] = relationship(back_populates="loan")
    institution: Mapped["Institution"] = relationship()  # noqa: F821
    outcomes: Mapped[list["RepaymentOutcome"]] = relationship(
        back_populates="loan", order_by="RepaymentOutcome.month"
    )

    @property
    def latest_outcome(self):
        """The latest monthly report, or None before the first."""
        return self.outcomes[-1] if self.outcomes else None


class RepaymentOutcome(db.Model):
    """A lender's monthly report on a loan (贷后反馈): the labels future models learn from."""

    __tablename__ = "repayment_outcome"
    __table_args__ = (UniqueConstraint("loan_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    # The month reported on, as its first day.
    month: Mapped[date]
    outcome: Mapped[str] = mapped_column(String(12))
    days_past_due: Mapped[int] = mapped_column(default=0)
    amount_outstanding: Mapped[Decimal] = mapped_column(Money, default=0)
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # The 贷后反馈 file the report came from (None: reported on the loan's page).
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_upload.id"), index=True)

    loan: Mapped[Loan] = relationship(back_populates="outcomes")
    upload: Mapped["FeedbackUpload | None"] = relationship(back_populates="reports")


class FeedbackUpload(db.Model):
    """A lender's 贷后反馈 file of many loans' monthly status: who sent which file when, and what it did."""

    __tablename__ = "feedback_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    encoding: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_loaded: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    # One entry per rejected row: {"line", "reference", "month", "message"}, in the uploader's language.
    rejects: Mapped[list] = mapped_column(JSON, default=list)

    uploaded_by: Mapped["User"] = relationship()  # noqa: F821
    reports: Mapped[list[RepaymentOutcome]] = relationship(back_populates="upload", order_by=RepaymentOutcome.id)
