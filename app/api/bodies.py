"""What the token API reads and answers, declared once as pydantic models: the views validate requests and
build responses with them, and the OpenAPI document is generated from their JSON Schemas."""
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.common.ids import MAX_ID
from app.common.vocab import (
    APPLICATION_STATUSES,
    DECLARED_OUTCOMES,
    DECLINE_REASONS,
    GUARANTEE_TYPES,
    MAX_DECLINE_REASONS,
    REPAYMENT_METHODS,
    SUBJECT_KINDS,
)

Status = Literal[tuple(APPLICATION_STATUSES)]
Guarantee = Literal[tuple(GUARANTEE_TYPES)]
Repayment = Literal[tuple(REPAYMENT_METHODS)]
DeclineReason = Literal[tuple(DECLINE_REASONS)]
SubjectKind = Literal[tuple(SUBJECT_KINDS)]
Declared = Literal[tuple(DECLARED_OUTCOMES)]
RecordId = Field(ge=1, le=MAX_ID)
Note = Field(default=None, max_length=500)
# 1 亿元 in 万元: the largest amount the platform takes (MAX_NEED_AMOUNT_YUAN).
Wan = Field(gt=0, le=10000, multiple_of=0.0001)
MAX_ROWS = 500


class Body(BaseModel):
    """A request body: unknown members are refused, so a misspelt field is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """A response body."""


class Problem(Answer):
    """RFC 9457 problem details, in Chinese and English."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    title_en: str
    status: int
    detail: str
    detail_en: str
    instance: str
    request_id: str


class Offer(Answer):
    amount_wan: float
    rate: float
    apr: float | None
    term_months: int | None
    repayment: str | None
    guarantee: str | None
    valid_until: date | None


class LoanSummary(Answer):
    id: int
    reference: str
    status: str
    principal_wan: float
    disbursed_on: date


class ApplicationOut(Answer):
    """An application to the token's institution."""

    id: int
    status: Status
    version: int = Field(description="send it back as `version` so that a step taken meanwhile is not overwritten")
    product_id: int
    product_name: str
    subject_id: int
    subject_name: str
    subject_kind: str
    amount_wan: float
    term_months: int
    submitted_at: datetime
    updated_at: datetime | None
    due_at: datetime | None
    decided_at: datetime | None
    decision_reasons: list[str] | None
    offer: Offer | None
    loan: LoanSummary | None


class ApplicationPage(Answer):
    applications: list[ApplicationOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class ApplicationQuery(Body):
    status: Status | None = None
    due_before: datetime | None = Field(default=None, description="only applications due at or before this time")
    updated_since: datetime | None = Field(default=None, description="only applications with a step since then")
    cursor: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=200)


class Reason(Answer):
    feature: str
    contribution: float | None = Field(description="SHAP contribution to the log-odds of default")
    text: str
    text_en: str | None


class EvidenceTable(Answer):
    source: str
    headers: list[str]
    rows: list[list[str]]


class Evidence(Answer):
    feature: str
    tables: list[EvidenceTable]


class Profile(Answer):
    """The applicant's credit profile under the application's consent (the view is in the firm's 查询记录)."""

    application_id: int
    subject_id: int
    subject_name: str
    subject_kind: str
    town_code: str | None
    consent_id: int
    consent_valid_to: datetime
    scored: bool
    score: int | None
    grade: str | None
    pd: float | None
    model_version: str | None
    data_as_of: date | None
    reasons: list[Reason]
    records: list[Evidence]


class StepIn(Body):
    version: int | None = Field(default=None, ge=1, le=MAX_ID, description="the version last read (optional)")
    note: str | None = Note


class InfoRequestIn(Body):
    version: int | None = Field(default=None, ge=1, le=MAX_ID)
    note: str = Field(min_length=1, max_length=500, description="what the firm is asked to send")


class ApproveIn(Body):
    version: int | None = Field(default=None, ge=1, le=MAX_ID)
    amount_wan: float = Wan
    rate: float = Field(gt=0, le=100, description="annual rate in %")
    term_months: int = Field(ge=1, le=360)
    repayment: Repayment
    guarantee: Guarantee
    valid_until: date = Field(description="the last day the firm may accept the offer")
    collateral: str | None = Field(default=None, max_length=200)
    note: str | None = Note


class DeclineIn(Body):
    version: int | None = Field(default=None, ge=1, le=MAX_ID)
    reasons: list[DeclineReason] = Field(min_length=1, max_length=MAX_DECLINE_REASONS)
    note: str | None = Note


class DisbursementIn(Body):
    application_id: int = RecordId
    amount_wan: float = Wan
    disbursed_on: date
    reference: str = Field(min_length=1, max_length=64, description="the loan account")
    note: str | None = Note


class DisbursementsIn(Body):
    rows: list[DisbursementIn] = Field(min_length=1, max_length=MAX_ROWS)


class RowResult(Answer):
    index: int = Field(description="the row's place in `rows`, from 0")
    application_id: int | None = None
    loan_id: int | None = None
    error: str | None = None


class BulkResult(Answer):
    written: int
    rejected: int
    rows: list[RowResult]


class RepaymentIn(Body):
    reference: str = Field(min_length=1, max_length=64, description="the loan account")
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    days_past_due: int = Field(ge=0, le=3650)
    outstanding_yuan: float = Field(ge=0, le=1e8, multiple_of=0.01)
    declared: Declared | None = None
    note: str | None = Note


class RepaymentsIn(Body):
    rows: list[RepaymentIn] = Field(min_length=1, max_length=MAX_ROWS)


class RepaymentReject(Answer):
    index: int
    reference: str
    month: str
    error: str


class RepaymentResult(Answer):
    upload_id: int
    loaded: int
    unchanged: int
    rejected: int
    rejects: list[RepaymentReject]


class Rules(Body):
    subject_kinds: list[SubjectKind] | None = None
    towns: list[str] | None = Field(default=None, max_length=50)
    min_age_years: int | None = Field(default=None, ge=0, le=100)
    min_grade: str | None = Field(default=None, max_length=2)
    max_pd: float | None = Field(default=None, gt=0, le=1)
    unscored_pass: bool = True


class ProductIn(Body):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=2000)
    amount_min_wan: float = Wan
    amount_max_wan: float = Wan
    term_min_months: int = Field(ge=1, le=360)
    term_max_months: int = Field(ge=1, le=360)
    rate_min: float = Field(gt=0, le=100)
    rate_max: float = Field(gt=0, le=100)
    guarantee_types: list[Guarantee] = Field(min_length=1, max_length=4)
    upfront_fee_pct: float = Field(default=0, ge=0, le=20)
    guarantee_fee_pct: float = Field(default=0, ge=0, le=10)
    repayment: Repayment = "annuity"
    rules: Rules = Field(default_factory=Rules)


class ProductOut(Answer):
    id: int
    name: str
    status: str
    version: int
    amount_min_wan: float
    amount_max_wan: float
    term_min_months: int
    term_max_months: int
    rate_min: float
    rate_max: float
    guarantee_types: list[str]
    repayment: str


class FunnelStage(Answer):
    stage: str
    label: str
    count: int
    amount_wan: float | None


class MarketFigures(Answer):
    """The regulator's figures of the whole market (the dashboard's funnel, months and programme totals)."""

    funnel: list[FunnelStage]
    months: list[dict]
    totals: dict
