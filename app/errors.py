"""Error pages and JSON errors, in the user's language."""
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db


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
