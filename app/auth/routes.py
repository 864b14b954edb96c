"""Routes of the auth area."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import JoinForm, LoginForm, PasswordForm, RegisterForm
from app.common.errors import InvalidInput
from app.common.region import town_choices
from app.extensions import db, limiter
from app.forms import as_choices, show_error
from app.services import accounts, members, reports, subjects

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    "firm": "firm.dashboard", "lender_officer": "lender.dashboard", "lender_admin": "lender.dashboard",
    "regulator": "regulator.dashboard", "data_admin": "dataadmin.dashboard",
    "platform_admin": "platform.users",
}


# What a user with a temporary password may still reach: the page that changes it, the language switch,
# logging out, and what needs no person (assets, probes).
BEFORE_PASSWORD_CHANGE = {"auth.change_password", "auth.logout", "auth.set_language", "static", "api.health",
                          "ops.healthz", "ops.readyz", "ops.metrics_page"}


@bp.before_app_request
def temporary_password_first():
    """A password an administrator set is changed before any other page: others send the user to the
    change (an API call is refused with 403)."""
    if request.endpoint in BEFORE_PASSWORD_CHANGE or not accounts.must_change_password(current_user):
        return None
    message = _("您的密码是管理员设置的临时密码，请先修改密码。")
    if request.blueprint == "api":
        return {"error": message}, 403
    flash(message, "info")
    return redirect(url_for("auth.change_password"))


@bp.get("/")
def index():
    """Anonymous visitors see what the platform is; users go to their own home."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    return render_template("index.html")


@bp.get("/report/verify/<code>")
def report_verify(code):
    """Public check of a credit report: valid or not for the code and the hash printed on it; when valid, only
    its issue date and the subject's name masked."""
    sha256 = request.args.get("sha256", "").strip()[:64]
    issue = reports.verify(db.session, code, sha256) if sha256 else None
    return render_template("auth/report_verify.html", code=code[:24], sha256=sha256, checked=bool(sha256),
                           issue=issue, masked_name=reports.masked_name(issue.subject.name) if issue else "")


def _setting(name):
    """A limit read from the app's settings when the request comes (tests and deployments set their own)."""
    return lambda: current_app.config[name]


def _account_tried():
    """The limit's key for the account a login names (case and full-width letters folded)."""
    return "account:" + accounts.normalise_username(request.form.get("username", "")).lower()


def _no_account_named():
    """A form without a username checks no password: no account's counter moves."""
    return not accounts.normalise_username(request.form.get("username", ""))


def _failed(response):
    """Only refused attempts count: a user who logs in now and then is never locked out."""
    return response.status_code == 400


def _audit_locked_login(_limit):
    """A login refused by a limit is a failed login too (audited once however many limits it broke)."""
    if not g.get("login_lock_audited"):
        g.login_lock_audited = True
        accounts.record_failed_login(db.session, request.form.get("username", ""), locked=True)
        db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_setting("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=_failed, on_breach=_audit_locked_login,
               error_message=lambda: _("来自您的网络地址的登录尝试次数过多，已暂停登录。"))
@limiter.limit(_setting("LOGIN_ACCOUNT_RATE_LIMIT"), key_func=_account_tried, methods=["POST"],
               exempt_when=_no_account_named, deduct_when=_failed, on_breach=_audit_locked_login,
               error_message=lambda: _("该账户登录尝试次数过多，已暂时锁定。"))
def login():
    """Log in with username and password."""
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            accounts.record_failed_login(db.session, form.username.data)
            db.session.commit()
            form.password.errors.append(_("用户名或密码不正确。"))
        else:
            _fresh_session()
            login_user(user)
            # A language chosen on the login page is the user's choice from now on.
            accounts.set_locale(user, session.get("lang"), current_app.config["LANGUAGES"])
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


def _fresh_session():
    """Empty the session (nothing of an earlier login survives into the next) but keep the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


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
    _fresh_session()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_setting("REGISTER_RATE_LIMIT"), methods=["POST"],
               error_message=lambda: _("来自您的网络地址的注册请求过多，已暂停注册。"))
def register():
    """A firm registers its credit subject and its first user."""
    form = RegisterForm()
    form.town_code.choices = as_choices(town_choices())
    if form.validate_on_submit():
        try:
            subject = _register_subject(form)
            db.session.flush()
            user = accounts.register_firm_user(db.session, subject, form.username.data, form.password.data,
                                               form.display_name.data)
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


def _register_subject(form):
    """The subject a registration creates: by its code, or a farmer without one by ID number and village."""
    if (form.code.data or "").strip():
        return subjects.register_subject(db.session, form.kind.data, form.name.data, form.code.data,
                                         form.town_code.data, established_on=form.established_on.data)
    if form.kind.data != "farmer":
        raise InvalidInput(_("请输入统一社会信用代码。"), "code")
    if not (form.id_number.data or "").strip():
        raise InvalidInput(_("请输入农户编码（承包方编码）；没有编码的农户请填写户主身份证号码和所在村。"), "code")
    return subjects.register_farmer_by_id(db.session, form.name.data, form.id_number.data, form.town_code.data,
                                          form.village.data, current_app.config["ID_HASH_KEY"])


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(_setting("REGISTER_RATE_LIMIT"), methods=["POST"],
               error_message=lambda: _("来自您的网络地址的注册请求过多，已暂停注册。"))
def join():
    """A person joins a credit subject already on the platform, with an invitation code."""
    form = JoinForm()
    if request.method == "GET" and request.args.get("code"):
        form.code.data = request.args["code"][:40]
    if form.validate_on_submit():
        try:
            user = members.join(db.session, form.code.data, form.id_number.data, form.username.data,
                                form.password.data, form.display_name.data, current_app.config["ID_HASH_KEY"])
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            accounts.set_locale(user, session.get("lang"), current_app.config["LANGUAGES"])
            db.session.commit()
            _fresh_session()
            login_user(user)
            flash(_("已加入“%(name)s”，欢迎使用。", name=user.subject.name), "success")
            return redirect(url_for("firm.dashboard"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/join.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of the account ends, this one goes on."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, current_user, form.current.data, form.password.data)
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session, under the new token
            flash(_("密码已修改，其他设备上的登录已退出。"), "success")
            return redirect(url_for("auth.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


@bp.get("/lang/<code>")
def set_language(code):
    """Switch the interface language (zh / en) and go back; a logged-in user keeps the choice."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            accounts.set_locale(current_user, code, current_app.config["LANGUAGES"])
            db.session.commit()
    return redirect(_safe_next(request.args.get("next")) or url_for("auth.index"))
