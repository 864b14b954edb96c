"""Routes of the auth area."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import LoginForm, RegisterForm
from app.common.errors import InvalidInput
from app.common.region import town_choices
from app.extensions import db, limiter
from app.forms import as_choices, show_error
from app.services import accounts, subjects

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    "firm": "firm.dashboard", "lender_officer": "lender.dashboard", "lender_admin": "lender.dashboard",
    "regulator": "regulator.dashboard", "data_admin": "dataadmin.dashboard",
    "platform_admin": "platform.users",
}


@bp.get("/")
def index():
    """Anonymous visitors see what the platform is; users go to their own home."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    return render_template("index.html")


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Log in with username and password."""
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            form.password.errors.append(_("用户名或密码不正确。"))
        else:
            session.clear()
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


def _safe_next(target):
    """Only same-site relative paths are followed after login."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.post("/logout")
@login_required
def logout():
    """End the session for real: the token in old cookies stops working too."""
    accounts.end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """A firm registers its credit subject and its first user."""
    form = RegisterForm()
    form.town_code.choices = as_choices(town_choices())
    if form.validate_on_submit():
        try:
            subject = subjects.register_subject(
                db.session, form.kind.data, form.name.data, form.code.data, form.town_code.data,
                established_on=form.established_on.data)
            db.session.flush()
            user = accounts.create_user(db.session, form.username.data, form.password.data, "firm",
                                        form.display_name.data, subject=subject)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            login_user(user)
            flash(_("注册成功，欢迎使用。"), "success")
            return redirect(url_for("firm.dashboard"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.get("/lang/<code>")
def set_language(code):
    """Switch the interface language (zh / en) and go back."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
