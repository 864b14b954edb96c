"""Error pages and JSON errors, in the user's language."""
import time
from datetime import UTC, datetime

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
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
    }


def error_response(status, message=None):
    """Render an error page or a JSON error body for `status`."""
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


def unauthorized_response():
    """Anonymous users: a JSON 401 for the API, the login page for people."""
    if wants_json():
        return error_response(401)
    flash(_("请先登录。"), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def register(app):
    """Attach the handlers to the app."""

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

    @app.errorhandler(Exception)
    def unexpected(error):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if app.config.get("TESTING") and app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return error_response(500)
