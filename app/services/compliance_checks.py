"""The compliance run (`flask compliance check`, and the daily round): each active rule's search for the
records that break it and are not flagged yet; every finding becomes a ComplianceFlag (docs/compliance.md).

Each search is one or two set-wise queries that skip what the rule has flagged already, so a daily run
reads little more than the day's new records.
"""
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, case, insert, not_, or_, select

from app.common import workdays
from app.common.vocab import DECLINE_REASONS, MAX_DECLINE_REASONS, REPAYMENT_METHODS
from app.entities import Application, ComplianceFlag, Consent, DataAccessLog, Institution, Product
from app.entities.base import utcnow
from app.matching.apr import annualised_rate

from . import compliance, response_clock


@dataclass(frozen=True)
class Finding:
    """A record that breaks a rule: which, whose institution, and the figures that show it."""

    target_type: str
    target_id: int
    institution_id: int | None
    details: dict


def _not_flagged(code, target_type, id_column):
    # NOT IN a subquery: both databases hash (or index) the rule's flagged ids once, where a correlated
    # NOT EXISTS probes the flags once per candidate row.
    return id_column.not_in(select(ComplianceFlag.target_id).where(ComplianceFlag.rule == code,
                                                                   ComplianceFlag.target_type == target_type))


def _apr_cap(session, params, now):
    """Published products whose top APR, and offers whose APR, exceed their institution kind's cap."""
    caps = {kind: compliance.apr_cap(kind) for kind in params.get("caps", {})}
    found = []
    for product, kind in session.execute(
            select(Product, Institution.kind).join(Institution, Product.institution_id == Institution.id)
            .where(Product.status == "published", _not_flagged("apr_cap", "Product", Product.id))):
        cap = caps.get(kind)
        if cap is None:
            continue
        apr = compliance.worst_apr(product.rate_max, product.term_min_months, product.term_max_months,
                                   product.repayment, product.upfront_fee_pct, product.guarantee_fee_pct)
        if apr > cap.pct:
            found.append(Finding("Product", product.id, product.institution_id, compliance.cap_details(apr, cap, kind)))
    capped = {kind: cap.pct for kind, cap in caps.items() if cap is not None}
    if not capped:
        return found
    # An offer's disclosed APR is compared in SQL; only offers made before disclosure are computed here.
    over_cap = or_(Application.approved_apr.is_(None), Application.approved_apr > case(capped, value=Institution.kind))
    offers = session.execute(
        select(Application.id, Application.institution_id, Institution.kind, Application.approved_rate,
               Application.approved_term_months, Application.approved_repayment, Application.approved_apr,
               Product.upfront_fee_pct, Product.guarantee_fee_pct)
        .join(Institution, Application.institution_id == Institution.id)
        .join(Product, Application.product_id == Product.id)
        .where(Application.approved_rate.is_not(None), over_cap,
               _not_flagged("apr_cap", "Application", Application.id))).all()
    aprs = offer_aprs(offers)
    for row, apr in zip(offers, aprs, strict=True):
        cap = caps.get(row.kind)
        if cap is not None and apr > cap.pct:
            found.append(Finding("Application", row.id, row.institution_id,
                                 compliance.cap_details(float(apr), cap, row.kind)))
    return found


def offer_aprs(offers):
    """The APR of each offer: the one disclosed with it, else computed from its terms and its product's fees."""
    if not offers:
        return np.zeros(0)
    computed = annualised_rate(
        [float(r.approved_rate) for r in offers], [r.approved_term_months or 12 for r in offers],
        [REPAYMENT_METHODS.index(r.approved_repayment or "annuity") for r in offers],
        [float(r.upfront_fee_pct or 0) for r in offers], [float(r.guarantee_fee_pct or 0) for r in offers])
    disclosed = np.array([np.nan if r.approved_apr is None else float(r.approved_apr) for r in offers])
    return np.where(np.isnan(disclosed), computed, disclosed)


def _apr_disclosure(session, params, now):
    """Offers made without their annualised total cost disclosed (approved before it was)."""
    rows = session.execute(select(Application.id, Application.institution_id, Application.approved_rate).where(
        Application.approved_rate.is_not(None), Application.approved_apr.is_(None),
        _not_flagged("apr_disclosure", "Application", Application.id)))
    return [Finding("Application", r.id, r.institution_id, {"rate": float(r.approved_rate)}) for r in rows]


def _decline_reasons(session, params, now):
    """Declines with no specific principal reason from the list (or with more than the list allows)."""
    rows = session.execute(select(Application.id, Application.institution_id, Application.decision_reasons).where(
        Application.status == "declined", _not_flagged("decline_reasons", "Application", Application.id)))
    found = []
    for row in rows:
        reasons = row.decision_reasons if isinstance(row.decision_reasons, list) else []
        if not reasons or len(reasons) > MAX_DECLINE_REASONS or set(reasons) - set(DECLINE_REASONS):
            found.append(Finding("Application", row.id, row.institution_id, {"reasons": list(reasons)}))
    return found


def _response_overdue(session, params, now):
    """Applications still undecided past their due time (by at least `min_working_days_late` working days)."""
    least = max(int(params.get("min_working_days_late", 0)), 1)
    rows = session.execute(select(Application.id, Application.institution_id, Application.due_at).where(
        *response_clock.overdue_conditions(now), _not_flagged("response_overdue", "Application", Application.id)))
    found = []
    for row in rows:
        late = workdays.working_days_late(row.due_at, now)
        if late >= least:
            found.append(Finding("Application", row.id, row.institution_id,
                                 {"due_at": row.due_at.isoformat(timespec="minutes"), "working_days_late": late}))
    return found


def consent_valid_at_view():
    """SQL: the view's consent is the subject's consent to the viewer's institution and was in force when
    the view happened (not yet revoked; a paused consent has no recorded pause time, so it never counts)."""
    return and_(Consent.id.is_not(None), Consent.subject_id == DataAccessLog.subject_id,
                Consent.institution_id == DataAccessLog.institution_id, Consent.status != "paused",
                Consent.valid_from <= DataAccessLog.at, Consent.valid_to > DataAccessLog.at,
                or_(Consent.revoked_at.is_(None), Consent.revoked_at > DataAccessLog.at))


def _consent_view(session, params, now):
    """Views of a firm's data by a lender's user with no consent in force at the time of the view."""
    rows = session.execute(
        select(DataAccessLog.id, DataAccessLog.institution_id, DataAccessLog.subject_id, DataAccessLog.consent_id,
               DataAccessLog.what, DataAccessLog.at, Consent.status)
        .outerjoin(Consent, Consent.id == DataAccessLog.consent_id)
        .where(DataAccessLog.institution_id.is_not(None), not_(consent_valid_at_view()),
               _not_flagged("consent_view", "DataAccessLog", DataAccessLog.id)))
    return [Finding("DataAccessLog", r.id, r.institution_id,
                    {"subject_id": r.subject_id, "consent_id": r.consent_id, "consent_status": r.status or "",
                     "what": r.what, "at": r.at.isoformat(timespec="minutes")}) for r in rows]


def _licence_suspended(session, params, now):
    """Published products of institutions whose licence is suspended or revoked."""
    rows = session.execute(select(Product.id, Product.institution_id, Institution.licence_status)
                           .join(Institution, Product.institution_id == Institution.id)
                           .where(Product.status == "published", Institution.licence_status != "valid",
                                  _not_flagged("licence_suspended", "Product", Product.id)))
    return [Finding("Product", r.id, r.institution_id, {"licence_status": r.licence_status}) for r in rows]


SEARCHES = {"apr_cap": _apr_cap, "apr_disclosure": _apr_disclosure, "decline_reasons": _decline_reasons,
            "response_overdue": _response_overdue, "consent_view": _consent_view,
            "licence_suspended": _licence_suspended}


def run(session, now=None):
    """Flag what every active rule finds (staged); per rule: new flags and flags still unacknowledged."""
    now = now or utcnow()
    new = {}
    for code, configured in compliance.rules().items():
        if not configured.active:
            continue
        findings = SEARCHES[code](session, configured.params, now)
        if findings:  # one executemany: a first run over a market's history may find thousands
            session.execute(insert(ComplianceFlag.__table__), [
                {"rule": code, "target_type": f.target_type, "target_id": f.target_id,
                 "institution_id": f.institution_id, "details": f.details, "found_at": now} for f in findings])
        new[code] = len(findings)
    unacknowledged = compliance.open_counts(session)
    return {"new": new, "open": {code: unacknowledged.get(code, 0) for code in new}}
