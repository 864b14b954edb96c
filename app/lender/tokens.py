"""The institution admin's API tokens: the list, a new token (shown once) and revoking one (docs/api.md)."""
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import institution_token_or_404
from app.common.errors import InvalidInput, NotAllowed
from app.entities.base import utcnow
from app.extensions import db
from app.forms import ActionForm, show_error
from app.lender.forms import ApiTokenForm
from app.lender.routes import admin_only, bp
from app.services import api_tokens


@bp.route("/api-tokens", methods=["GET", "POST"])
@admin_only
def api_token_list():
    """The institution's tokens; a new one is made here and its token shown once."""
    form = ApiTokenForm()
    if not form.is_submitted():
        form.days.data = current_app.config["API_TOKEN_DEFAULT_DAYS"]
    if form.validate_on_submit():
        try:
            token, plain = api_tokens.create(db.session, current_user, current_user, form.name.data,
                                             form.scopes.data, form.days.data)
        except (InvalidInput, NotAllowed) as error:
            db.session.rollback()
            show_error(form, InvalidInput(error.message, getattr(error, "field", None)))
        else:
            db.session.commit()
            return render_template("lender/api_token_once.html", token=token, plain=plain)
    status = 400 if form.is_submitted() else 200
    return render_template("lender/api_tokens.html", form=form, action_form=ActionForm(), now=utcnow(),
                           tokens=api_tokens.tokens_of(db.session, current_user.institution_id)), status


@bp.post("/api-tokens/<id:token_id>/revoke")
@admin_only
def api_token_revoke(token_id):
    """Revoke one of the institution's tokens now."""
    token = institution_token_or_404(token_id)
    if not ActionForm().validate():
        flash(_("页面已过期，请刷新后重试。"), "error")
        return redirect(url_for("lender.api_token_list"))
    try:
        api_tokens.revoke(db.session, token, current_user)
    except NotAllowed as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("令牌“%(name)s”已吊销。", name=token.name), "success")
    return redirect(url_for("lender.api_token_list"))
