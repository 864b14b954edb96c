"""Routes of the regulator area: the market read-only, and the reviews, repairs and lists it owns.

The data admin shares the objection queue, for objections to department data items."""
from io import BytesIO

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import audit_views
from app.access import (
    compliance_flag_or_404,
    handled_objection_or_404,
    list_entry_or_404,
    repair_request_or_404,
    role_required,
)
from app.common import tables
from app.common.errors import InvalidInput, NotAllowed
from app.common.ids import page_number
from app.common.language import english
from app.common.vocab import COMPLIANCE_RULES, LIST_TYPES
from app.entities.base import utcnow
from app.extensions import db
from app.forms import show_error
from app.regulator.forms import (
    CELL_PREFIX,
    AcknowledgeForm,
    ListEntryForm,
    ListExitForm,
    ObjectionAnswerForm,
    RepairDecisionForm,
)
from app.services import (
    compliance,
    list_kinds,
    lists,
    market,
    market_figures,
    match_supervision,
    monitoring,
    objections,
    repairs,
    response_clock,
    scoreboard,
    scores,
)

bp = Blueprint("regulator", __name__, url_prefix="/regulator")

regulator_only = role_required("regulator")
objection_handlers = role_required("regulator", "data_admin")


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


@bp.get("/objections")
@objection_handlers
def objection_queue():
    """异议处理: open requests with their answer-by dates (overdue first), and the latest answers."""
    return render_template("regulator/objections.html", queue=objections.queue(db.session, current_user),
                           answered=objections.answered(db.session, current_user))


@bp.route("/objections/<id:objection_id>", methods=["GET", "POST"])
@objection_handlers
def objection_answer(objection_id):
    """Answer one request; an upheld objection may correct the disputed record."""
    objection = handled_objection_or_404(objection_id)
    form = ObjectionAnswerForm()
    columns = objections.correction_columns(objection) if objection.status == "open" else []
    if form.validate_on_submit():
        changes = {c.name: request.form.get(CELL_PREFIX + c.name, c.text) for c in columns}
        try:
            objections.decide(db.session, objection, current_user, form.decision.data, form.response.data, changes)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        except NotAllowed as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("已答复，企业可在信用评分页面看到答复。"), "success")
            return redirect(url_for("regulator.objection_queue"))
    record_table = None
    if objection.record is not None:
        record_table = scores.record_view(objection.record)
    return render_template("regulator/objection.html", objection=objection, form=form, columns=columns,
                           record=record_table, cell_prefix=CELL_PREFIX,
                           values={c.name: request.form.get(CELL_PREFIX + c.name, c.text) for c in columns})


@bp.get("/repairs")
@regulator_only
def repair_queue():
    """信用修复审核: open requests, and the latest decisions."""
    return render_template("regulator/repairs.html", queue=repairs.queue(db.session),
                           decided=repairs.decided(db.session))


@bp.route("/repairs/<id:request_id>", methods=["GET", "POST"])
@regulator_only
def repair_decision(request_id):
    """Decide one repair request."""
    repair = repair_request_or_404(request_id)
    form = RepairDecisionForm()
    if form.validate_on_submit():
        try:
            repairs.decide(db.session, repair, current_user, form.decision.data, form.note.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        except NotAllowed as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("已作出修复决定，企业已重新评分。"), "success")
            return redirect(url_for("regulator.repair_queue"))
    return render_template("regulator/repair.html", repair=repair, form=form,
                           record=scores.record_view(repair.record) if repair.record else None)


def _entry_form():
    form = ListEntryForm()
    form.list_kind.choices = [(key, f"{list_kinds.list_words(key, 'name')} ({LIST_TYPES.label(kind['type'])})")
                              for key, kind in list_kinds.list_kinds().items()]
    return form


@bp.get("/lists")
@regulator_only
def list_entries():
    """红黑名单: entries by status and list, with the form that adds one."""
    status = request.args.get("status", "active")
    status = status if status in ("active", "removed", "") else "active"
    kind = request.args.get("kind") or None
    page = request.args.get("page", 1, type=page_number)
    rows, more = lists.entries(db.session, status, kind if kind in list_kinds.list_kinds() else None, page)
    return render_template("regulator/lists.html", entries=rows, more=more, page=page, status=status, kind=kind,
                           kinds=list_kinds.list_kinds(), form=_entry_form())


@bp.post("/lists")
@regulator_only
def list_add():
    """Put a subject on a list (the subject is re-scored and re-matched)."""
    form = _entry_form()
    if form.validate_on_submit():
        try:
            subject = lists.subject_by_code(db.session, form.subject_code.data)
            entry = lists.add_entry(db.session, current_user, subject, form.list_kind.data, form.reason.data,
                                    form.listed_on.data, form.ends_on.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("已列入名单。"), "success")
            return redirect(url_for("regulator.list_entry", entry_id=entry.id))
    rows, more = lists.entries(db.session)
    return render_template("regulator/lists.html", entries=rows, more=more, page=1, status="active", kind=None,
                           kinds=list_kinds.list_kinds(), form=form), 400


@bp.route("/lists/<id:entry_id>", methods=["GET", "POST"])
@regulator_only
def list_entry(entry_id):
    """One entry, with the form that records its exit."""
    entry = list_entry_or_404(entry_id)
    form = ListExitForm()
    if entry.status == "active" and form.validate_on_submit():
        try:
            lists.remove_entry(db.session, current_user, entry, form.reason.data, form.removed_on.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("已移出名单。"), "success")
            return redirect(url_for("regulator.list_entry", entry_id=entry.id))
    return render_template("regulator/list_entry.html", entry=entry, form=form,
                           measures=list_kinds.measures_of(entry.list_kind))


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
            flash(("; " if english() else "；").join(str(e) for e in errors), "error")
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
