"""Error pages and JSON errors, in the user's language."""
import time
from datetime import UTC, datetime

from flask import abort, current_app, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.extensions import db, limiter
from app.security import body_limit_message


def wants_json():
    """True for the JSON API and for clients that ask for JSON only."""
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def _messages():
    return {
        400: _("请求有误，请检查输入后重试。"),
        401: _("请先登录。"),
        403: _("您没有权限访问该页面。"),
        404: _("页面或记录不存在，或您无权查看。"),
        405: _("不支持该请求方式。"),
        409: _("当前状态下不能执行该操作。"),
        413: _("上传的文件过大。"),
        429: _("尝试次数过多，请稍后再试。"),
        500: _("服务器内部错误，已记录，请稍后再试。"),
        503: _("系统正忙，本次提交未作任何改动，请稍后重试。"),
    }


def error_response(status, message=None):
    """Render an error page or a JSON error body for `status`."""
    if request.path.startswith("/api/"):
        from app.common.problems import problem

        if message is not None:
            return problem(status, message, message), status
        with force_locale("zh"):
            zh = _messages().get(status, _("请求无法完成。"))
        with force_locale("en"):
            en = _messages().get(status, _("请求无法完成。"))
        return problem(status, zh, en, message=_messages().get(status, _("请求无法完成。"))), status
    message = message or _messages().get(status, _("请求无法完成。"))
    if wants_json():
        return jsonify(error={"status": status, "message": message}), status
    return render_template("error.html", status=status, message=message), status


def _retry_at():
    """When every limit this request broke has room again (a Unix time)."""
    broken = [limit.reset_at for limit in limiter.current_limits if limit.breached]
    return max(broken, default=time.time() + 60)


def retry_message(error):
    """The limit's own message (which counter ran out) and when to try again, in local time."""
    retry_at = _retry_at()
    minutes = max(round((retry_at - time.time()) / 60), 1)
    when = format_datetime(datetime.fromtimestamp(retry_at, UTC), "HH:mm")
    return _("%(reason)s请在 %(minutes)d 分钟后（%(when)s 以后）再试。",
             reason=error.description if error.limit.error_message else _("尝试次数过多。"),
             minutes=minutes, when=when)


def refuse(status, message):
    """Stop the request here with `status` and `message` (an error page, or JSON for the API)."""
    abort(make_response(error_response(status, message)))


def unauthorized_response():
    """Anonymous users: a JSON 401 for the API, the login page for people."""
    if wants_json():
        return error_response(401)
    flash(_("请先登录。"), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def holds_nul(value):
    """True when `value` (text, or lists and dicts of them, keys included) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(item) for item in value)
    return False


def _request_texts():
    """Every text the request carries that a view may store: path values, query, form, JSON, file names."""
    yield request.view_args or {}
    yield list(request.args.lists())
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        yield list(request.form.lists())
        yield [storage.filename or "" for storage in request.files.values()]
    if request.is_json:
        yield request.get_json(silent=True)


def _database_busy(error):
    """SQLite's lock held past the busy timeout, or a lost connection: worth retrying later."""
    text = str(error.orig).lower()
    return error.connection_invalidated or "locked" in text or "busy" in text


def _unexpected(error):
    db.session.rollback()
    current_app.logger.exception("unhandled error")
    if current_app.config.get("TESTING") and current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise error
    return error_response(500)


def _register_database_handlers(app):
    """Input the database cannot hold, and a database busy with another writer."""

    @app.before_request
    def refuse_nul():
        # No database text column holds NUL (PostgreSQL refuses it): refused before any view runs.
        if any(holds_nul(texts) for texts in _request_texts()):
            return error_response(400, _("提交的内容含有空字符（NUL），未作任何改动，请删除后重试。"))
        return None

    @app.errorhandler(DataError)
    def data_error(error):
        db.session.rollback()
        app.logger.warning("refused data the database cannot hold: %s", error)
        return error_response(400, _("提交的数据超出可保存的范围或格式，未作任何改动，请检查后重试。"))

    @app.errorhandler(OperationalError)
    def operational_error(error):
        db.session.rollback()
        if not _database_busy(error):
            return _unexpected(error)
        app.logger.warning("database busy: %s", error)
        response = make_response(error_response(503))
        response.headers["Retry-After"] = "5"
        return response


def register(app):
    """Attach the handlers to the app."""
    _register_database_handlers(app)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.session.rollback()
        return error_response(400, _("表单安全令牌缺失或已过期，请刷新页面后重新提交。"))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        db.session.rollback()
        return error_response(413, body_limit_message())

    @app.errorhandler(RateLimitExceeded)
    def too_many(error):
        db.session.rollback()
        response, status = error_response(429, retry_message(error))
        response = app.make_response((response, status))
        response.headers["Retry-After"] = str(max(int(_retry_at() - time.time()), 1))
        return response

    @app.errorhandler(HTTPException)
    def http_error(error):
        db.session.rollback()
        return error_response(error.code)

    app.register_error_handler(Exception, _unexpected)
