"""Routes of the lender area; staff see only their own institution's records."""
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import (
    institution_application_or_404,
    institution_feedback_upload_or_404,
    institution_officer_or_404,
    institution_product_or_404,
    institution_staff_or_404,
    role_required,
)
from app.common.errors import InvalidInput, NotAllowed, in_user_language
from app.common.ids import page_number
from app.common.vocab import APPLICATION_STATUSES, LENDER_ROLES, QUEUE_SCOPES
from app.entities.base import utcnow
from app.entities.users import LENDER_ADMIN, LENDER_OFFICER
from app.errors import refuse
from app.extensions import db
from app.forms import AccountForm, ActionForm, StepForm, query_code, show_error, submit_step
from app.ingest.uploads import UploadRefused, receive
from app.lender.forms import (
    ApproveForm,
    DeclineForm,
    DisburseForm,
    FeedbackUploadForm,
    InfoRequestForm,
    ProductRulesForm,
    RepaymentForm,
    amount_in_yuan,
    approve_form,
    offer_of,
    product_form_data,
    product_terms,
)
from app.services import (
    accounts,
    applications,
    feedback,
    loans,
    members,
    products,
    queues,
    ranking,
    reports,
    response_clock,
    scores,
)
from app.services import screening as screening_service
from app.services.report_pdf import ReportUnavailable, render

bp = Blueprint("lender", __name__, url_prefix="/lender")

staff_only = role_required(*LENDER_ROLES)
officer_only = role_required(LENDER_OFFICER)
admin_only = role_required(LENDER_ADMIN)


@bp.get("/")
@staff_only
def dashboard():
    """The work queue: open applications by due time (or those of one status), in a scope such as 分配给我."""
    scope = query_code("scope", QUEUE_SCOPES, _("待办范围")) or "all"
    status = query_code("status", APPLICATION_STATUSES, _("申请状态"))
    queue = queues.officer_queue(db.session, current_user, utcnow(), scope=scope, status=status,
                                 page=request.args.get("page", 1, type=page_number))
    return render_template("lender/dashboard.html", queue=queue, scope=scope, status=status, form=ActionForm(),
                           statuses=APPLICATION_STATUSES)


@bp.post("/applications/<id:application_id>/assign")
@admin_only
def application_assign(application_id):
    """Give the application to one of the institution's officers (none: take it back)."""
    application = institution_application_or_404(application_id)
    officer_id = request.form.get("officer_id", type=int)
    officer = institution_officer_or_404(officer_id) if officer_id else None
    try:
        changed = queues.assign(db.session, application, officer, current_user)
    except NotAllowed as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        if changed:
            flash(_("已分配给 %(name)s。", name=officer.display_name) if officer else _("已取消分配。"), "success")
    return redirect(url_for("lender.dashboard"))


@bp.get("/applications/<id:application_id>")
@staff_only
def application_detail(application_id):
    """One application with its offer, loan and history, and the applicant's score under the application's
    own consent (opening it is then logged as a view under that consent). An offer past its last day is
    expired first."""
    application = institution_application_or_404(application_id)
    applications.expire_offers(db.session, application_id=application.id)
    summary, refusal = _under_consent(lambda: scores.lender_summary(db.session, application, current_user))
    consent, score = summary or (None, None)
    page = render_template("lender/application_detail.html", application=application, consent=consent,
                           refusal=refusal, score=score, approve_form=approve_form(application),
                           decline_form=DeclineForm(), info_form=InfoRequestForm(), disburse_form=DisburseForm(),
                           repayment_form=RepaymentForm(), form=StepForm(),
                           days_late=response_clock.days_late(application, utcnow()))
    db.session.commit()  # after rendering: a commit expires what the page reads
    return page


@bp.get("/applications/<id:application_id>/score")
@staff_only
def application_score(application_id):
    """The applicant's credit score with its reasons, chart, peers and records: only under the application's
    own consent in force (403 saying why otherwise)."""
    application = institution_application_or_404(application_id)
    view, refusal = _under_consent(lambda: scores.lender_view(db.session, application, current_user))
    page = render_template("lender/score.html", application=application, refusal=refusal, view=view)
    if refusal:
        return page, 403
    db.session.commit()
    return page


@bp.get("/applications/<id:application_id>/report.pdf")
@staff_only
def application_report(application_id):
    """The applicant's credit report (信用报告) as a PDF: only under the application's own consent in force
    (404 otherwise, as for a record the lender may not see), logged in the firm's 查询记录."""
    application = institution_application_or_404(application_id)
    issued, refusal = _under_consent(lambda: reports.issue_to_lender(db.session, application, current_user))
    if refusal:
        db.session.rollback()
        abort(404)
    issue, content, body = issued
    try:
        pdf = render(content, issue.sha256, body, current_app.config["REPORT_FONT_PATH"],
                     current_app.config["REPORT_FONT_INDEX"])
    except ReportUnavailable as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("lender.application_detail", application_id=application.id))
    db.session.commit()
    return send_file(BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"credit-report-{issue.code}.pdf")


def _under_consent(show):
    """(what `show()` returns, None), or (None, the refusal's message) when the firm's consent does not allow it."""
    try:
        return show(), None
    except NotAllowed as refusal:
        return None, refusal.message


@bp.get("/ranking")
@staff_only
def applicant_ranking():
    """Open applications ranked by the applicants' credit scores (scores only under consent)."""
    page = request.args.get("page", 1, type=page_number)
    rows = ranking.ranked_applicants(db.session, current_user.institution_id, page)
    html = render_template("lender/ranking.html", rows=rows, page=page, page_size=ranking.PAGE_SIZE)
    ranking.log_views(db.session, current_user, rows)
    db.session.commit()
    return html


def _act(application_id, form, action):
    """Run `action(application, seen_version)`; flash its refusal (nothing written) or commit, then
    show the application again."""
    return submit_step(form, institution_application_or_404(application_id), action, _("已保存。"),
                       "lender.application_detail")


@bp.post("/applications/<id:application_id>/review")
@officer_only
def application_review(application_id):
    """Take the application into review."""
    return _act(application_id, StepForm(), lambda a, seen: applications.start_review(a, current_user, seen))


@bp.post("/applications/<id:application_id>/request-info")
@officer_only
def application_request_info(application_id):
    """Ask the firm for more information."""
    form = InfoRequestForm()
    return _act(application_id, form, lambda a, seen: applications.request_info(a, current_user, form.note.data, seen))


@bp.post("/applications/<id:application_id>/approve")
@officer_only
def application_approve(application_id):
    """Approve with an offer: amount (万元), rate, term, repayment method, guarantee, valid until."""
    form = ApproveForm()
    return _act(application_id, form, lambda a, seen: applications.approve(
        db.session, a, current_user, offer_of(form), form.note.data, seen))


@bp.post("/applications/<id:application_id>/decline")
@officer_only
def application_decline(application_id):
    """Decline with one to four principal reasons."""
    form = DeclineForm()
    return _act(application_id, form, lambda a, seen: applications.decline(
        db.session, a, current_user, form.reasons.data, form.note.data, seen))


@bp.post("/applications/<id:application_id>/disburse")
@officer_only
def application_disburse(application_id):
    """Record the disbursement of an accepted offer: amount (万元), date, loan account."""
    form = DisburseForm()
    return _act(application_id, form, lambda a, seen: loans.disburse(
        db.session, a, current_user, amount_in_yuan(form, "amount_wan"), form.disbursed_on.data,
        form.reference.data, form.note.data, seen))


@bp.post("/applications/<id:application_id>/repayments")
@officer_only
def application_repayment(application_id):
    """Record a month's status of the application's loan: days past due, balance (万元), a declared
    default or write-off."""
    form = RepaymentForm()

    def report(application, seen):
        loans.record_month(db.session, loans.loan_of(application), current_user, form.month.data,
                           form.days_past_due.data, amount_in_yuan(form, "outstanding_wan"), form.declared.data,
                           form.note.data, seen)

    return _act(application_id, form, report)


@bp.route("/feedback", methods=["GET", "POST"])
@staff_only
def feedback_upload():
    """贷后反馈批量上传: one file of many loans' monthly status; then the upload's result."""
    form = FeedbackUploadForm()
    if form.validate_on_submit():
        config = current_app.config
        try:
            path = receive(form.file.data, config["UPLOAD_DIR"], config["MAX_UNZIPPED_BYTES"],
                           config["MAX_ZIP_RATIO"]).paths[0]
            record = feedback.upload(db.session, path, current_user.institution, current_user)
        except UploadRefused as refusal:
            form.file.errors.append(in_user_language(refusal.message, refusal.message_en))
        except (InvalidInput, NotAllowed) as refusal:
            db.session.rollback()
            form.file.errors.append(refusal.message)
        else:
            db.session.commit()
            flash(_("文件已处理：载入 %(l)d 行，未变 %(u)d 行，拒收 %(r)d 行。", l=record.rows_loaded,
                    u=record.rows_unchanged, r=record.rows_rejected), "success" if not record.rows_rejected else "info")
            return redirect(url_for("lender.feedback_detail", upload_id=record.id))
    status = 400 if form.is_submitted() else 200
    return render_template("lender/feedback.html", form=form, columns=feedback.FEEDBACK_FILE.columns,
                           uploads=feedback.uploads_of(db.session, current_user.institution_id)), status


@bp.get("/feedback/template.csv")
@staff_only
def feedback_template():
    """The CSV to fill in, listing the institution's loans whose month is not reported yet."""
    body = feedback.template_csv(db.session, current_user.institution_id).encode("utf-8")
    return send_file(BytesIO(body), mimetype="text/csv", as_attachment=True,
                     download_name=_("贷后反馈模板.csv"))


@bp.get("/feedback/<id:upload_id>")
@staff_only
def feedback_detail(upload_id):
    """One upload: who sent which file when, its figures, its rejected rows and the reports it wrote."""
    record = institution_feedback_upload_or_404(upload_id)
    return render_template("lender/feedback_detail.html", upload=record,
                           reports=feedback.loaded_reports(db.session, record))


@bp.get("/products")
@admin_only
def product_list():
    """The institution's products."""
    return render_template("lender/products.html", form=ActionForm(),
                           products=products.products_of(db.session, current_user.institution_id))


def _save_product(form, save):
    """Validate the form, run `save(terms)`; on an error show it on the form and save nothing."""
    try:
        save(product_terms(form))
    except InvalidInput as error:
        db.session.rollback()
        error.field = {"amount_min": "amount_min_wan", "amount_max": "amount_max_wan"}.get(error.field, error.field)
        show_error(form, error)
        return False
    except NotAllowed as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    db.session.commit()
    return True


@bp.route("/products/new", methods=["GET", "POST"])
@admin_only
def product_new():
    """Publish a product with its fees and rules."""
    form = ProductRulesForm()
    if form.validate_on_submit() and _save_product(form, lambda terms: products.publish_product(
            db.session, current_user.institution, current_user, terms)):
        flash(_("产品已发布。"), "success")
        return redirect(url_for("lender.product_list"))
    status = 400 if form.is_submitted() else 200
    return render_template("lender/product_form.html", form=form, product=None), status


@bp.route("/products/<id:product_id>/edit", methods=["GET", "POST"])
@admin_only
def product_edit(product_id):
    """Change a product's terms and rules: a new version; open needs are re-matched."""
    product = institution_product_or_404(product_id)
    form = ProductRulesForm(data=None if request.method == "POST" else product_form_data(product))
    version = product.version
    if form.validate_on_submit() and _save_product(form, lambda terms: products.update_product(
            db.session, product, current_user, terms)):
        if product.version == version:
            flash(_("产品条款没有变化，仍为第 %(v)d 版。", v=version), "info")
        else:
            flash(_("产品已更新为第 %(v)d 版。", v=product.version), "success")
        return redirect(url_for("lender.product_list"))
    status = 400 if form.is_submitted() else 200
    return render_template("lender/product_form.html", form=form, product=product), status


@bp.get("/products/<id:product_id>/versions")
@admin_only
def product_versions(product_id):
    """Every version of a product's terms, newest first."""
    product = institution_product_or_404(product_id)
    return render_template("lender/product_versions.html", product=product,
                           versions=products.versions_of(db.session, product.id))


@bp.get("/screening")
@staff_only
def screening():
    """在线优企筛选: firms whose open needs pass one of the institution's products."""
    own = [p for p in products.products_of(db.session, current_user.institution_id) if p.status == "published"]
    product_id = request.args.get("product_id", type=int)
    product = institution_product_or_404(product_id) if product_id else None
    try:
        filters = screening_service.checked_filters({k: request.args.get(k) for k in screening_service.FILTERS})
    except InvalidInput as error:
        refuse(400, error.message)
    rows = screening_service.screen_product(db.session, product, current_user, filters) if product else []
    if product:
        screening_service.log_views(db.session, current_user, product, rows)
        db.session.commit()
    return render_template("lender/screening.html", products=own, product=product, rows=rows, filters=filters,
                           bands=screening_service, grades=current_app.config["CREDIT_GRADES"])


@bp.post("/products/<id:product_id>/retire")
@admin_only
def product_retire(product_id):
    """Retire a product."""
    product = institution_product_or_404(product_id)
    try:
        products.retire_product(db.session, product, current_user)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("产品已下架。"), "success")
    return redirect(url_for("lender.product_list"))


@bp.route("/officers", methods=["GET", "POST"])
@admin_only
def officers():
    """The institution's loan officers; the admin adds one (a generated password, shown once) here."""
    form = AccountForm()
    if form.validate_on_submit():
        password = accounts.temporary_password()
        try:
            officer = members.create_officer(db.session, current_user, form.username.data, form.display_name.data,
                                             password)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            return render_template("secret_once.html", user=officer, password=password,
                                   back=url_for("lender.officers"))
    status = 400 if form.is_submitted() else 200
    return render_template("lender/officers.html", form=form, action_form=ActionForm(),
                           officers=members.officers_of(db.session, current_user.institution_id)), status


@bp.post("/officers/<id:user_id>/active")
@admin_only
def officer_set_active(user_id):
    """Deactivate an officer (their sessions end at once) or bring one back."""
    officer = institution_staff_or_404(user_id)
    if not ActionForm().validate():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("lender.officers"))
    try:
        accounts.set_active(db.session, current_user, officer, not officer.active)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已启用 %(name)s。", name=officer.display_name) if officer.active
              else _("已停用 %(name)s，其登录已全部退出。", name=officer.display_name), "success")
    return redirect(url_for("lender.officers"))
