"""Routes of the platform-admin area, and the model administration it shares with the regulator."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import audit_views, jobs
from app.access import registered_version_or_404, role_required, subject_or_404, user_or_404
from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import GOVERNING_ROLES
from app.credit.registry import RegistryError
from app.entities import Institution, User
from app.entities.users import SUBJECT_CODE
from app.extensions import db
from app.forms import ActionForm, show_error
from app.platform.forms import ActivateForm, StaffForm
from app.services import accounts, activation, invitations, model_review, scoring_runs, subjects

bp = Blueprint("platform", __name__, url_prefix="/platform")

platform_admin_only = role_required("platform_admin")
governing = role_required(*GOVERNING_ROLES)


def _staff_form():
    form = StaffForm()
    form.institution_id.choices = [(0, "—"), *((i.id, i.name) for i in db.session.scalars(
        select(Institution).where(Institution.active.is_(True)).order_by(Institution.name)))]
    return form


@bp.route("/", methods=["GET", "POST"])
@platform_admin_only
def users():
    """Every user with role and affiliation, and every institution; a new staff account is made here."""
    form = _staff_form()
    if form.validate_on_submit():
        institution = db.session.get(Institution, form.institution_id.data) if form.institution_id.data else None
        try:
            user, password = accounts.create_staff(db.session, current_user, form.role.data, form.username.data,
                                                   form.display_name.data, institution)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            return render_template("secret_once.html", user=user, password=password, back=url_for("platform.users"))
    return render_template(
        "platform/users.html", form=form, action_form=ActionForm(),
        users=db.session.scalars(select(User).order_by(User.role, User.username)).all(),
        institutions=db.session.scalars(select(Institution).order_by(Institution.name)).all()
    ), 400 if form.is_submitted() else 200


@bp.post("/users/<id:user_id>/active")
@platform_admin_only
def user_set_active(user_id):
    """Deactivate a user (their sessions end at once) or bring one back."""
    user = user_or_404(user_id)
    if not ActionForm().validate():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("platform.users"))
    try:
        accounts.set_active(db.session, current_user, user, not user.active)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已启用 %(u)s。", u=user.username) if user.active
              else _("已停用 %(u)s，其登录已全部退出。", u=user.username), "success")
    return redirect(url_for("platform.users"))


@bp.post("/users/<id:user_id>/reset")
@platform_admin_only
def user_reset(user_id):
    """Give a user a new generated password (shown once); every session of theirs ends."""
    user = user_or_404(user_id)
    if not ActionForm().validate():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("platform.users"))
    password = accounts.reset_password(db.session, current_user, user)
    db.session.commit()
    return render_template("secret_once.html", user=user, password=password, back=url_for("platform.users"))


@bp.get("/subjects")
@platform_admin_only
def subject_search():
    """Find a credit subject by code or name, to issue the code its first user joins with."""
    query = request.args.get("q", "")
    return render_template("platform/subjects.html", query=query, form=ActionForm(),
                           found=subjects.find_subjects(db.session, query))


@bp.post("/subjects/<id:subject_id>/code")
@platform_admin_only
def subject_code(subject_id):
    """Issue a subject's one-time code (replacing any earlier unused one); it is shown once, here."""
    subject = subject_or_404(subject_id)
    if not ActionForm().validate():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("platform.subject_search"))
    invitation, code = invitations.issue(db.session, SUBJECT_CODE, subject, current_user,
                                         current_app.config["SUBJECT_CODE_DAYS"])
    db.session.commit()
    return render_template("platform/subject_code.html", subject=subject, invitation=invitation, code=code)


@bp.get("/audit")
@platform_admin_only
def audit_log():
    """The audit log: filters (who, what, institution, dates), paging, export and the tamper check."""
    return audit_views.show("platform")


@bp.get("/audit/verify")
@platform_admin_only
def audit_verify():
    """The audit log with the result of re-hashing its whole chain."""
    return audit_views.show_verified("platform")


@bp.get("/audit/export.csv")
@platform_admin_only
def audit_export():
    """The filtered audit log as CSV."""
    return audit_views.export()


@bp.get("/models")
@governing
def model_list():
    """Registered versions side by side, champion against a challenger, and the scoring runs."""
    config = current_app.config
    review = model_review.review(db.session, config["MODEL_REGISTRY"], config["REGION_CODE"],
                                 config["MODEL_COMPARE_SAMPLE"], request.args.get("challenger"))
    return render_template("platform/models.html", review=review, runs=scoring_runs.recent_runs(db.session),
                           running=scoring_runs.running(db.session), form=ActivateForm(), action_form=ActionForm())


@bp.post("/models/<version>/activate")
@governing
def model_activate(version):
    """Activate a version with a reason (audited), then re-score everyone in the background."""
    form = ActivateForm()
    if not form.validate():
        flash(next((e for field in form for e in field.errors), _("请写明启用理由。")), "error")
        return redirect(url_for("platform.model_list"))
    root = current_app.config["MODEL_REGISTRY"]
    registered_version_or_404(root, version)
    try:
        run = activation.activate(db.session, root, version, current_user, form.reason.data,
                                  via=f"web:{current_user.username}", override=form.override.data)
    except (InvalidInput, NotAllowed) as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("platform.model_list"))
    except RegistryError as error:
        flash(_("模型版本不可用：%(e)s", e=str(error)), "error")
        return redirect(url_for("platform.model_list"))
    db.session.commit()
    jobs.submit("scoring", run.id)
    flash(_("已启用模型 %(v)s，正在后台为全部主体重新评分。", v=version), "success")
    return redirect(url_for("platform.model_list"))


@bp.post("/scores/refresh")
@governing
def scores_refresh():
    """Re-score every subject with the active model, in the background."""
    if not ActionForm().validate():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("platform.model_list"))
    try:
        run = scoring_runs.start(db.session, "manual", current_user)
    except NotAllowed as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("platform.model_list"))
    db.session.commit()
    jobs.submit("scoring", run.id)
    flash(_("已开始重新评分（后台运行）。"), "success")
    return redirect(url_for("platform.model_list"))
