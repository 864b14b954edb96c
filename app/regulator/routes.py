"""Routes of the regulator area."""
from flask import Blueprint, render_template, request

from app import audit_views
from app.access import role_required
from app.common.ids import page_number
from app.entities.base import utcnow
from app.extensions import db
from app.services import market, match_supervision, response_clock, supervision

bp = Blueprint("regulator", __name__, url_prefix="/regulator")

regulator_only = role_required("regulator")


@bp.get("/")
@regulator_only
def dashboard():
    """Counts of needs, applications and decisions, overall and per institution."""
    return render_template("regulator/dashboard.html",
                           counts=supervision.market_counts(db.session),
                           institutions=supervision.by_institution(db.session),
                           overdue=response_clock.overdue_count(db.session, utcnow()))


@bp.get("/audit")
@regulator_only
def audit_log():
    """The audit log: filters (who, what, institution, dates), paging, export and the tamper check."""
    return audit_views.show("regulator")


@bp.get("/audit/verify")
@regulator_only
def audit_verify():
    """The audit log with the result of re-hashing its whole chain."""
    return audit_views.show_verified("regulator")


@bp.get("/audit/export.csv")
@regulator_only
def audit_export():
    """The filtered audit log as CSV."""
    return audit_views.export()


@bp.get("/matching")
@regulator_only
def unmatched_needs():
    """Open needs that found no eligible product, with the rules that failed most."""
    entries = match_supervision.unmatched_needs(db.session)
    return render_template("regulator/unmatched.html", entries=entries,
                           totals=match_supervision.failed_rule_totals(entries))


@bp.get("/matching/reliability")
@regulator_only
def odds_reliability():
    """Are the approval odds shown to firms honest? Predicted against observed, on later decisions."""
    return render_template("regulator/reliability.html", report=market.reliability_report(db.session))


@bp.get("/overdue")
@regulator_only
def overdue_applications():
    """超时未处理申请: overdue applications of every institution, and each institution's response times."""
    report = response_clock.overdue_report(db.session, utcnow(), request.args.get("page", 1, type=page_number))
    return render_template("regulator/overdue.html", report=report)
