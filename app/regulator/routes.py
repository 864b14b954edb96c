"""Routes of the regulator area."""
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.access import compliance_flag_or_404, role_required
from app.common.errors import InvalidInput, NotAllowed
from app.common.ids import page_number
from app.common.vocab import COMPLIANCE_RULES
from app.entities import AuditEntry
from app.entities.base import utcnow
from app.extensions import db
from app.services import compliance, market, match_supervision, response_clock, scoreboard, supervision

from .forms import AcknowledgeForm

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


def _flag_filters():
    """The compliance page's filters from the query string (unknown values are ignored)."""
    rule = request.args.get("rule", "")
    acknowledged = {"yes": True, "no": False}.get(request.args.get("acknowledged", "no"))
    return {"code": rule if rule in COMPLIANCE_RULES else None,
            "institution_id": request.args.get("institution", type=int),
            "acknowledged": acknowledged}


@bp.get("/compliance")
@regulator_only
def compliance_flags():
    """合规监测: the flags of the compliance rules, by rule / institution / acknowledged, and the rules in force."""
    filters = _flag_filters()
    found = compliance.flags(db.session, **filters, page=request.args.get("page", 1, type=page_number))
    return render_template("regulator/compliance.html", page=found, filters=filters, form=AcknowledgeForm(),
                           rules=compliance.rules(), caps=compliance.caps(), lpr=compliance.lpr(),
                           open_counts=compliance.open_counts(db.session),
                           institutions=compliance.institutions(db.session), describe=compliance.describe)


@bp.post("/compliance/<id:flag_id>/acknowledge")
@regulator_only
def compliance_acknowledge(flag_id):
    """Acknowledge a flag with a note (audited)."""
    found = compliance_flag_or_404(flag_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash("；".join(str(e) for e in errors), "error")
        return redirect(url_for("regulator.compliance_flags"))
    try:
        compliance.acknowledge(db.session, found, current_user, form.note.data)
    except (InvalidInput, NotAllowed) as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已确认处理该标记。"), "success")
    return redirect(url_for("regulator.compliance_flags"))


@bp.get("/scoreboard")
@regulator_only
def scoreboard_page():
    """机构服务评价: every institution's response times against its promise, approvals, APRs, decline reasons."""
    return render_template("regulator/scoreboard.html", cards=scoreboard.scoreboard(db.session))


@bp.get("/scoreboard.csv")
@regulator_only
def scoreboard_csv():
    """The scoreboard as a CSV file."""
    body = scoreboard.to_csv(scoreboard.scoreboard(db.session))
    return Response(body.encode("utf-8"), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=scoreboard.csv"})
