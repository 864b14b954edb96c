"""How a token endpoint runs: bearer token and scope, the per-token rate limit, the body or query read
with its pydantic model, the Idempotency-Key of a write, the service's refusals as problem details in both
languages, and the request id. Each endpoint is declared once with `endpoint(...)`; the same declaration
feeds the OpenAPI document (app/api/openapi.py)."""
import hashlib
import logging
import time
from dataclasses import dataclass, field
from functools import partial, wraps

from flask import current_app, g, has_request_context, jsonify, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError

from app.common.errors import InvalidInput, NotAllowed
from app.common.problems import problem, request_id
from app.extensions import db, limiter
from app.services import api_tokens, idempotency

WRITES = ("POST", "PUT", "PATCH")
# Every endpoint declared, in order, for the OpenAPI document.
ENDPOINTS = []


@dataclass
class Endpoint:
    """What the OpenAPI document says of one operation."""

    method: str
    path: str
    scope: str
    summary: str
    view: object = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    status: int = 200
    examples: dict = field(default_factory=dict)


def bearer():
    """The token of `Authorization: Bearer …`, or None."""
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _rate_key():
    """Requests count per token (by its hash: the token itself is never kept), else per address."""
    token = bearer()
    if token:
        return "api-token:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "api-address:" + (request.remote_addr or "")


def _authenticated(scope):
    """The request's token with `scope`, or the problem to answer (401, 403)."""
    token = api_tokens.authenticate(db.session, bearer())
    if token is None:
        db.session.rollback()
        return None, problem(401, _l("缺少有效的接口令牌，或令牌已吊销、已过期。"))
    if scope not in token.scopes:
        db.session.rollback()
        return None, problem(403, _l("该令牌没有“%(scope)s”权限。", scope=scope), scope=scope)
    g.api_token = token
    return token, None


def _parsed(model, source):
    """The request's body or query as `model`, or the problem (400, 422) saying what is wrong."""
    try:
        if source == "body":
            return model.model_validate_json(request.get_data() or b"{}"), None
        return model.model_validate(request.args.to_dict()), None
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            return None, problem(400, _l("请求体不是有效的 JSON。"))
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in error.errors()]
        return None, problem(422, _l("请求内容未通过校验：%(fields)s。",
                                     fields=", ".join(e["field"] or "body" for e in errors)), errors=errors)


def _refusal(error, rerun):
    """The problem of a service's refusal, its detail in both languages: the action is checked again in
    English (nothing was written either time)."""
    db.session.rollback()
    status = 422 if isinstance(error, InvalidInput) else 409
    english = None
    with force_locale("en"):
        try:
            rerun()
        except (InvalidInput, NotAllowed) as again:
            english = again.message
    db.session.rollback()
    extra = {"field": error.field} if isinstance(error, InvalidInput) and error.field else {}
    return problem(status, error.message, english or error.message, **extra)


def _run(spec, kwargs, parsed):
    """Call the view in Chinese; a refusal becomes a problem. Returns (status, body) or a response."""
    call = partial(spec.view, parsed, **kwargs) if parsed is not None else partial(spec.view, **kwargs)
    try:
        with force_locale("zh"):
            answer = call()
    except (InvalidInput, NotAllowed) as error:
        return _refusal(error, call)
    return spec.status, answer.model_dump(mode="json")


def _write(spec, token, kwargs, parsed):
    """A write under its Idempotency-Key: the first response is kept; a replay returns it."""
    try:
        key = idempotency.checked_key(request.headers.get("Idempotency-Key"))
    except InvalidInput as error:
        return problem(400, error.message, "Writes need an Idempotency-Key header (1 to 255 characters).")
    digest = idempotency.request_hash(request.method, request.path, request.get_data())
    try:
        claimed = idempotency.claim(db.session, token.id, key, digest)
    except idempotency.KeyMismatch:
        db.session.rollback()
        return problem(422, _l("该 Idempotency-Key 已用于另一个请求，请为新请求使用新的键。"))
    if isinstance(claimed, idempotency.Stored):
        db.session.rollback()
        response = jsonify(claimed.body)
        response.status_code = claimed.status
        response.headers["Idempotent-Replayed"] = "true"
        return response
    outcome = _run(spec, kwargs, parsed)
    if not isinstance(outcome, tuple):
        return outcome
    status, body = outcome
    idempotency.remember(claimed, status, body)
    db.session.commit()
    response = jsonify(body)
    response.status_code = status
    return response


def endpoint(bp, method, path, scope, summary, *, body=None, query=None, answer=None, status=200, examples=None):
    """Register a token endpoint on `bp` and in ENDPOINTS; the view takes the parsed body or query (if
    any) and the path's values, and returns an `answer` model instance."""
    spec = Endpoint(method, path, scope, summary, body=body, query=query, answer=answer, status=status,
                    examples=examples or {})

    def decorator(view):
        spec.view = view

        @wraps(view)
        def run(**kwargs):
            token, refused = _authenticated(scope)
            if refused is not None:
                return refused
            parsed = None
            if body is not None or query is not None:
                parsed, refused = _parsed(body or query, "body" if body is not None else "query")
                if refused is not None:
                    return refused
            if method in WRITES:
                return _write(spec, token, kwargs, parsed)
            outcome = _run(spec, kwargs, parsed)
            if not isinstance(outcome, tuple):
                return outcome
            db.session.commit()  # a read may log views (查询记录) and the token's last use
            response = jsonify(outcome[1])
            response.status_code = outcome[0]
            return response

        run.api_scope = scope
        limited = limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api-token",
                                       key_func=_rate_key)(run)
        flask_path = path.replace("{", "<id:").replace("}", ">")
        bp.add_url_rule(flask_path, endpoint=view.__name__, view_func=limited, methods=[method])
        ENDPOINTS.append(spec)
        return view

    return decorator


def stamp(response):
    """Give every API response the request's id, and log the request with it."""
    if not request.path.startswith("/api/"):
        return response
    response.headers["X-Request-ID"] = request_id()
    started = g.get("api_started")
    token = g.get("api_token")
    current_app.logger.info("api %s %s → %d token=%s %.1f ms", request.method, request.path, response.status_code,
                            token.id if token is not None else "-",
                            (time.perf_counter() - started) * 1000 if started else 0.0)
    return response


def start():
    """Note when an API request started, and its id."""
    if request.path.startswith("/api/"):
        g.api_started = time.perf_counter()
        request_id()


class RequestIdFilter(logging.Filter):
    """Put the API request's id in front of every line the app logs while serving it."""

    def filter(self, record):
        if has_request_context() and request.path.startswith("/api/"):
            record.msg = f"[{request_id()}] {record.msg}"
        return True
