"""Errors of the API as RFC 9457 problem details, in Chinese and English, with the request's id."""
import re
import uuid

from flask import jsonify, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

PROBLEM_TYPE = "application/problem+json"
# What a client may send as X-Request-ID (kept, so its own logs and ours share the id); anything else
# is replaced by an id of ours.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
TITLES = {
    400: _l("请求格式有误"), 401: _l("缺少有效的接口令牌"), 403: _l("令牌没有该权限"), 404: _l("记录不存在"),
    405: _l("不支持该请求方式"), 409: _l("当前状态下不能执行该操作"), 413: _l("请求内容过大"),
    415: _l("请求内容类型不受支持"), 422: _l("请求内容未通过校验"), 429: _l("请求过于频繁"),
    500: _l("服务器内部错误"), 503: _l("系统正忙"),
}


def request_id():
    """This request's id: the client's X-Request-ID when well-formed, else a new one (kept with the request)."""
    if "yintai.request_id" not in request.environ:
        given = request.headers.get("X-Request-ID", "")
        request.environ["yintai.request_id"] = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    return request.environ["yintai.request_id"]


def _both(text):
    with force_locale("zh"):
        zh = str(text)
    with force_locale("en"):
        en = str(text)
    return zh, en


def problem(status, detail=None, detail_en=None, message=None, **extra):
    """A problem+json response: title and detail in Chinese (`title`, `detail`) and English (`title_en`,
    `detail_en`); `detail` may be a lazy text (then both languages come from it). `message`: the text in
    the user's language for the `error` member (default: `detail`)."""
    title, title_en = _both(TITLES.get(status, _l("请求无法完成")))
    if detail is None:
        detail, detail_en = title, title_en
    elif detail_en is None:
        detail, detail_en = _both(detail)
    body = {"type": "about:blank", "title": title, "title_en": title_en, "status": status, "detail": str(detail),
            "detail_en": str(detail_en), "instance": request.path, "request_id": request_id(), **extra,
            # The members the first version of the API answered with, kept for its clients.
            "error": {"status": status, "message": str(message or detail)}}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_TYPE
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
