"""Routes of the firm area; every one is limited to firm users and their own records."""
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import (
    active_institution_or_404,
    own_application_or_404,
    own_consent_or_404,
    own_need_or_404,
    own_release_or_404,
    published_product_or_404,
    role_required,
    subject_member_or_404,
)
from app.common.errors import InvalidInput, NotAllowed
from app.common.language import english
from app.common.money import wan_to_yuan
from app.credit.scoring import latest_score
from app.entities.base import utcnow
from app.entities.users import MEMBER_INVITATION
from app.extensions import db
from app.firm.forms import ApplyForm, DeclineOfferForm, NeedForm, NoteForm, ObjectionForm, RepairForm, ReviewForm
from app.forms import ActionForm, StepForm, show_error, submit_step
from app.services import (
    applications,
    consents,
    identity,
    invitations,
    lists,
    loans,
    market,
    matches,
    members,
    messages,
    needs,
    objections,
    repairs,
    reports,
    scores,
)
from app.services.consents import UNDERWRITING_CATEGORIES
from app.services.report_pdf import ReportUnavailable, render

bp = Blueprint("firm", __name__, url_prefix="/firm")

firm_only = role_required("firm")


@bp.get("/")
@firm_only
def dashboard():
    """The firm's needs, applications and loans (offers past their last day are expired first)."""
    subject = current_user.subject
    if applications.expire_offers(db.session, subject_id=subject.id):
        db.session.commit()
    return render_template("firm/dashboard.html", subject=subject,
                           needs=needs.needs_of(db.session, subject.id),
                           applications=applications.applications_of_subject(db.session, subject.id),
                           loans=loans.loans_of_subject(db.session, subject.id))


@bp.route("/needs/new", methods=["GET", "POST"])
@firm_only
def need_new():
    """Post a financing need."""
    form = NeedForm()
    if form.validate_on_submit():
        try:
            need = needs.post_need(db.session, current_user.subject, current_user, wan_to_yuan(form.amount_wan.data),
                                   form.term_months.data, form.purpose.data, form.guarantee.data,
                                   max_rate=form.max_rate.data, urgency=form.urgency.data,
                                   form_token=form.form_token.data)
            matches.rematch_need(db.session, need)
        except InvalidInput as error:
            if error.field == "amount":
                error.field = "amount_wan"
            db.session.rollback()
            show_error(form, error)
        except NotAllowed as error:
            need = _posted_at_once(error, needs.posted_with_token, form)
            if need is not None:
                return redirect(url_for("firm.need_detail", need_id=need.id))
        else:
            db.session.commit()
            flash(_("融资需求已发布。"), "success")
            return redirect(url_for("firm.need_detail", need_id=need.id))
    status = 400 if form.is_submitted() else 200
    return render_template("firm/need_form.html", form=form), status


def _posted_at_once(error, posted_with, form):
    """After a refused post: the record the same form posted at the same moment (the other click
    won), or None with the refusal shown."""
    db.session.rollback()
    earlier = posted_with(db.session, current_user.subject_id, form.form_token.data)
    if earlier is None:
        flash(error.message, "error")
    return earlier


@bp.get("/needs/<id:need_id>")
@firm_only
def need_detail(need_id):
    """A need with the products that fit it and the near misses with their reasons."""
    need = own_need_or_404(need_id)
    return render_template("firm/need_detail.html", need=need, result=matches.evaluate_need(db.session, need),
                           threads=messages.threads_of_need(db.session, need),
                           summaries=market.institution_summaries(db.session), form=ActionForm())


@bp.post("/needs/<id:need_id>/withdraw")
@firm_only
def need_withdraw(need_id):
    """Withdraw an open need."""
    need = own_need_or_404(need_id)
    try:
        applications.withdraw_need(db.session, need)
        matches.rematch_need(db.session, need)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("需求已撤回。"), "success")
    return redirect(url_for("firm.need_detail", need_id=need.id))


@bp.route("/needs/<id:need_id>/apply/<id:product_id>", methods=["GET", "POST"])
@firm_only
def apply(need_id, product_id):
    """Show the consent the application needs; on submit, apply with it."""
    need = own_need_or_404(need_id)
    product = published_product_or_404(product_id)
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            application = applications.apply(db.session, need, product, current_user,
                                             form.consent.data, form.form_token.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        except NotAllowed as error:
            application = _posted_at_once(error, applications.submitted_with, form)
            if application is not None:
                return redirect(url_for("firm.application_detail", application_id=application.id))
        else:
            db.session.commit()
            flash(_("申请已提交至 %(i)s。", i=product.institution.name), "success")
            return redirect(url_for("firm.application_detail", application_id=application.id))
    status = 400 if form.is_submitted() else 200
    return render_template("firm/apply.html", need=need, product=product, form=form,
                           categories=UNDERWRITING_CATEGORIES), status


@bp.get("/applications/<id:application_id>")
@firm_only
def application_detail(application_id):
    """An application with its history, the decision with its reasons or offer, and the loan."""
    application = own_application_or_404(application_id)
    if applications.expire_offers(db.session, application_id=application.id):
        db.session.commit()
    return render_template("firm/application_detail.html", application=application, note_form=NoteForm(),
                           decline_offer_form=DeclineOfferForm(), form=StepForm())


def _step(application_id, form, action, done_message):
    """Run `action(application, seen_version)` on the firm's application; flash its refusal (nothing
    written) or commit, then show the application again."""
    return submit_step(form, own_application_or_404(application_id), action, done_message, "firm.application_detail")


@bp.post("/applications/<id:application_id>/withdraw")
@firm_only
def application_withdraw(application_id):
    """Withdraw an application before its decision."""
    return _step(application_id, StepForm(), lambda a, seen: applications.withdraw(a, current_user, seen),
                 _("申请已撤回。"))


@bp.post("/applications/<id:application_id>/answer")
@firm_only
def application_answer(application_id):
    """Answer the lender's request for information."""
    form = NoteForm()

    def answer(application, seen):
        if not form.validate():
            raise InvalidInput(next(iter(form.note.errors), _("请填写补充说明。")), "note")
        applications.answer_info_request(application, current_user, form.note.data, seen)

    return _step(application_id, form, answer, _("补充说明已提交。"))


@bp.post("/applications/<id:application_id>/accept")
@firm_only
def application_accept_offer(application_id):
    """Accept the lender's offer."""
    return _step(application_id, StepForm(), lambda a, seen: applications.accept_offer(
        db.session, a, current_user, seen), _("已接受批复，请等待机构放款。"))


@bp.post("/applications/<id:application_id>/decline-offer")
@firm_only
def application_decline_offer(application_id):
    """Decline the lender's offer (until the loan is disbursed)."""
    form = DeclineOfferForm()
    return _step(application_id, form, lambda a, seen: applications.decline_offer(
        db.session, a, current_user, form.note.data, seen), _("已放弃该批复。"))


@bp.get("/consents")
@firm_only
def consent_list():
    """The firm's consents and who viewed its data (查询记录)."""
    subject_id = current_user.subject_id
    return render_template("firm/consents.html",
                           consents=consents.consents_of(db.session, subject_id), now=utcnow(),
                           access_log=consents.access_log_of(db.session, subject_id), form=ActionForm())


@bp.post("/consents/<id:consent_id>/revoke")
@firm_only
def consent_revoke(consent_id):
    """Revoke one of the firm's consents."""
    consent = own_consent_or_404(consent_id)
    try:
        consents.revoke(db.session, consent, current_user)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("授权已撤回，该机构将不能再查看您的信息。"), "success")
    return redirect(url_for("firm.consent_list"))


@bp.get("/identity")
@firm_only
def identity_list():
    """Lenders the firm has released its identity to (在线优企筛选), and to which it may."""
    subject_id = current_user.subject_id
    return render_template("firm/identity.html", releases=identity.releases_of(db.session, subject_id),
                           released=identity.released_to(db.session, subject_id),
                           institutions=identity.institutions(db.session), form=ActionForm())


@bp.post("/identity/<id:institution_id>/release")
@firm_only
def identity_release(institution_id):
    """Let one lender's screening show the firm's name and need instead of an anonymised profile."""
    institution = active_institution_or_404(institution_id)
    try:
        identity.release(db.session, current_user.subject, institution, current_user)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已向 %(i)s 公开身份，可随时撤回。", i=institution.name), "success")
    return redirect(url_for("firm.identity_list"))


@bp.post("/identity/releases/<id:release_id>/revoke")
@firm_only
def identity_revoke(release_id):
    """Revoke a release: the lender sees the firm anonymised again."""
    entry = own_release_or_404(release_id)
    try:
        consents.revoke(db.session, entry, current_user)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已撤回公开，该机构只能看到匿名信息。"), "success")
    return redirect(url_for("firm.identity_list"))


def _objection_form(subject_id):
    form = ObjectionForm()
    form.record_id.choices = [(record_id, f"{source.label(english())} · {summary}")
                              for record_id, source, summary in scores.latest_records(db.session, subject_id)]
    return form


@bp.get("/score")
@firm_only
def score():
    """The firm's own score: reasons, sources and dates, history, what would improve it, its requests."""
    subject = current_user.subject
    view = scores.firm_view(db.session, subject)
    config = current_app.config
    # Without a score of its own there is nothing to improve: a figure computed here would tell the
    # firm a score and grade it does not have.
    improvement = view and scores.improvement(db.session, config["MODEL_REGISTRY"], config["REGION_CODE"],
                                              subject.id, view.score)
    penalties = repairs.penalties_of(db.session, subject.id)
    return render_template("firm/score.html", subject=subject, view=view, improvement=improvement,
                           describe=scores.describe, requests=objections.objections_of(db.session, subject.id),
                           review_form=ReviewForm(), objection_form=_objection_form(subject.id),
                           penalties=penalties, repair_form=_repair_form(penalties),
                           repair_requests=repairs.requests_of(db.session, subject.id),
                           list_entries=lists.entries_of(db.session, subject.id))


def _repair_form(penalties):
    form = RepairForm()
    form.record_id.choices = [
        (p.record.id, " · ".join(str(p.record.payload.get(k)) for k in ("decision_no", "authority", "decided_on")))
        for p in penalties if p.may_request]
    return form


@bp.get("/report.pdf")
@firm_only
def report_pdf():
    """The firm's own credit report (信用报告) as a PDF, issued now with its code and verification hash."""
    issue, content, body = reports.issue_to_firm(db.session, current_user.subject, current_user)
    try:
        pdf = render(content, issue.sha256, body, current_app.config["REPORT_FONT_PATH"],
                     current_app.config["REPORT_FONT_INDEX"])
    except ReportUnavailable as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("firm.score"))
    db.session.commit()
    return send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"credit-report-{issue.code}.pdf")


def _file(form, file_request, done_message):
    """Validate `form`, run `file_request()`; flash the outcome and return to the score page."""
    try:
        if not form.validate():
            raise InvalidInput(next((e for field in form for e in field.errors), _("请检查填写的内容。")))
        objection = file_request()
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(done_message % {"due": objection.due_on.isoformat()}, "success")
    return redirect(url_for("firm.score"))


@bp.post("/score/review")
@firm_only
def score_review():
    """Ask for a person to review the score (PIPL art. 24)."""
    form = ReviewForm()
    subject = current_user.subject
    return _file(form, lambda: objections.request_review(
        db.session, subject, current_user, latest_score(db.session, subject.id), form.description.data),
        _("已提交人工复核申请，将于 %(due)s 前答复。"))


@bp.post("/score/objection")
@firm_only
def score_objection():
    """Object to one of the firm's data items (异议), answered within 20 days."""
    form = _objection_form(current_user.subject_id)
    return _file(form, lambda: objections.object_to_record(
        db.session, current_user.subject, current_user, form.record_id.data, form.description.data),
        _("已提交数据异议，将于 %(due)s 前答复。"))


@bp.post("/score/repair")
@firm_only
def score_repair():
    """Ask for credit repair (信用修复) of one of the firm's penalties in publicity."""
    form = RepairForm()
    try:
        if not form.validate():
            raise InvalidInput(next((e for field in form for e in field.errors), _("请检查填写的内容。")))
        repairs.request_repair(db.session, current_user.subject, current_user, form.record_id.data,
                               form.description.data)
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已提交信用修复申请，监管部门审核后告知结果。"), "success")
    return redirect(url_for("firm.score"))


@bp.get("/members")
@firm_only
def members_list():
    """The subject's users and open invitations; the owner invites and removes colleagues here."""
    subject_id = current_user.subject_id
    return render_template("firm/members.html", members=members.members_of(db.session, subject_id),
                           pending=invitations.pending(db.session, subject_id, MEMBER_INVITATION),
                           form=ActionForm())


@bp.post("/members/invite")
@firm_only
def member_invite():
    """Issue a one-time invitation for a colleague; its code is shown once, on this page only."""
    if not ActionForm().validate():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("firm.members_list"))
    try:
        invitation, code = members.invite(db.session, current_user, current_app.config["MEMBER_INVITATION_DAYS"])
    except NotAllowed as error:
        flash(error.message, "error")
        return redirect(url_for("firm.members_list"))
    db.session.commit()
    return render_template("firm/invitation.html", invitation=invitation, code=code)


@bp.post("/members/<id:user_id>/owner")
@firm_only
def member_make_owner(user_id):
    """The owner hands the subject's ownership to a colleague (confirmed in the page) and becomes a member."""
    member = subject_member_or_404(user_id)
    if not current_user.owner:
        abort(403)
    if not ActionForm().validate():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("firm.members_list"))
    try:
        members.transfer_ownership(db.session, current_user, member)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已将账户管理员身份移交给 %(name)s。", name=member.display_name), "success")
    return redirect(url_for("firm.members_list"))


@bp.post("/members/<id:user_id>/remove")
@firm_only
def member_remove(user_id):
    """Remove a colleague: the account can no longer log in, its sessions end."""
    member = subject_member_or_404(user_id)
    try:
        members.remove(db.session, current_user, member)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已移除成员 %(name)s。", name=member.display_name), "success")
    return redirect(url_for("firm.members_list"))
