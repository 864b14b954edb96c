"""Routes of the platform-admin area, and the model administration it shares with the regulator."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import audit_views, jobs
from app.access import registered_version_or_404, role_required
from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import GOVERNING_ROLES
from app.credit.registry import RegistryError
from app.entities import Institution, User
from app.extensions import db
from app.forms import ActionForm
from app.platform.forms import ActivateForm
from app.services import activation, model_review, scoring_runs

bp = Blueprint("platform", __name__, url_prefix="/platform")

platform_admin_only = role_required("platform_admin")
governing = role_required(*GOVERNING_ROLES)


@bp.get("/")
@platform_admin_only
def users():
    """Every user with role and affiliation, and every institution."""
    return render_template(
        "platform/users.html",
        users=db.session.scalars(select(User).order_by(User.role, User.username)).all(),
        institutions=db.session.scalars(select(Institution).order_by(Institution.name)).all())


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
                                  via=f"web:{current_user.username}")
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
