"""Routes of the regulator area."""
from io import BytesIO

from flask import Blueprint, abort, render_template, request, send_file
from sqlalchemy import select

from app.access import role_required
from app.common import tables
from app.common.ids import page_number
from app.entities import AuditEntry
from app.entities.base import utcnow
from app.extensions import db
from app.services import market, market_figures, match_supervision, monitoring, response_clock

bp = Blueprint("regulator", __name__, url_prefix="/regulator")

regulator_only = role_required("regulator")


def _segment():
    """The breakdown asked for (?by=…), one of market_figures.SEGMENTS; anything else is a 400."""
    segment = request.args.get("by", "subject_kind")
    if segment not in market_figures.SEGMENTS:
        abort(400)
    return segment


@bp.get("/")
@regulator_only
def dashboard():
    """The market: counters, the funnel, months, a breakdown by segment, unmet demand, per institution."""
    segment = _segment()
    return render_template("regulator/dashboard.html", board=market_figures.dashboard(db.session, segment),
                           overdue=response_clock.overdue_count(db.session, utcnow()),
                           segments=market_figures.SEGMENTS, stages=market_figures.stage_names(segment),
                           stage_label=market_figures.STAGES.label, min_decided=market_figures.MIN_DECIDED)


@bp.get("/models")
@regulator_only
def model_monitoring():
    """The active credit model in use: stability (PSI), calibration as outcomes arrive, fairness."""
    return render_template("regulator/monitoring.html", report=monitoring.monitoring(db.session),
                           segments=monitoring.FAIRNESS_SEGMENTS)


@bp.get("/figures/<name>.<fmt>")
@regulator_only
def figures_export(name, fmt):
    """One of the dashboard's tables as CSV or Excel."""
    if name not in market_figures.TABLES or fmt not in tables.FORMATS:
        abort(404)
    title, headers, rows = market_figures.table(market_figures.dashboard(db.session, _segment()), name)
    body, mimetype = tables.encode(fmt, headers, rows, title)
    return send_file(BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=f"{name}.{fmt}")


@bp.get("/audit")
@regulator_only
def audit_log():
    """The latest audited actions."""
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)).all()
    return render_template("audit.html", entries=entries)


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
