"""What every request and response goes through: trusted proxies, body limits, the Origin check,
security headers, and the refusal to run in production with a development secret (docs/security.md)."""
from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import DEVELOPMENT_ID_HASH_KEY, DEVELOPMENT_SECRET_KEY

# Every asset is the app's own (government intranets have no internet): nothing inline, nothing
# from elsewhere, no framing, forms post only back here.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'self'",
    "form-action 'self'", "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATE_CHANGING = frozenset(("POST", "PUT", "PATCH", "DELETE"))
# Probes and metrics scraped by the machines that run the platform, never by a browser.
PROBE_PATHS = frozenset(("/healthz", "/readyz", "/metrics"))
# Pages that take department files or lenders' feedback files: their body may reach MAX_UPLOAD_BYTES.
UPLOAD_ENDPOINTS = frozenset(("dataadmin.upload", "lender.feedback_upload"))
# Pages that take a message with an attachment: their body may reach the attachment limit and a
# message's text (the service then refuses an attachment over MESSAGE_ATTACHMENT_MAX_BYTES in words).
ATTACHMENT_ENDPOINTS = frozenset(("messages.thread", "messages.need_question", "messages.application_thread"))
ATTACHMENT_FORM_ALLOWANCE = 256 * 1024


class ConfigurationError(RuntimeError):
    """A setting that must not be used as it is; the message says which and what to do."""


def register(app):
    """Check the production settings, trust the configured proxies, and hook the request checks."""
    check_production_settings(app.config)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies)
    # Before every other hook (CSRF reads the form): the body limit must be set before anything
    # parses the body, and a foreign origin is refused whatever token it carries.
    app.before_request_funcs.setdefault(None, [])[:0] = [set_body_limit, refuse_foreign_origin]
    app.after_request(add_security_headers)


def check_production_settings(config):
    """Refuse to start a production run with a development secret or ID-hash key, or per-process rate limits."""
    if not config.get("PRODUCTION"):
        return
    key = config.get("SECRET_KEY") or ""
    minimum = config["MIN_SECRET_KEY_LENGTH"]
    if key == DEVELOPMENT_SECRET_KEY or len(key) < minimum:
        raise ConfigurationError(
            f"PRODUCTION is set but SECRET_KEY is missing, the development key, or shorter than {minimum} "
            "characters: set SECRET_KEY to a long random value, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    id_key = config.get("ID_HASH_KEY") or ""
    if id_key == DEVELOPMENT_ID_HASH_KEY or len(id_key) < minimum:
        raise ConfigurationError(
            f"PRODUCTION is set but ID_HASH_KEY is missing, the development key, or shorter than {minimum} "
            "characters: set it to a long random value and keep it (stored ID-number hashes depend on it)")
    if config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        raise ConfigurationError(
            "PRODUCTION is set but RATELIMIT_STORAGE_URI is memory://: login limits would be per worker "
            "and reset by a restart; set it to the Redis every worker shares, e.g. redis://127.0.0.1:6379/0")


def body_limit_message():
    """Why a 413 was answered: the limit of the page that refused the body, in the user's language."""
    megabytes = f"{(request.max_content_length or 0) / (1024 * 1024):g} MB"
    if request.endpoint in UPLOAD_ENDPOINTS | ATTACHMENT_ENDPOINTS:
        return _("上传的文件过大：此页面最多接受 %(limit)s。", limit=megabytes)
    return _("提交的内容过大：此页面最多接受 %(limit)s。请缩短内容后重试。", limit=megabytes)


def set_body_limit():
    """Forms take MAX_CONTENT_LENGTH; the upload pages take MAX_UPLOAD_BYTES; a message a bit more than its
    largest attachment."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["MAX_UPLOAD_BYTES"]
    elif request.endpoint in ATTACHMENT_ENDPOINTS:
        request.max_content_length = max(current_app.config["MAX_CONTENT_LENGTH"],
                                         current_app.config["MESSAGE_ATTACHMENT_MAX_BYTES"] + ATTACHMENT_FORM_ALLOWANCE)


def _origin_of(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def refuse_foreign_origin():
    """A state-changing request whose Origin (else Referer) names another site is refused with 403.

    Browsers send Origin on every cross-site POST; a CSRF token alone does not stop a page that got
    hold of one. A request with neither header (a command-line client) is left to the CSRF check.
    """
    if request.method not in STATE_CHANGING or request.path in PROBE_PATHS:
        return None
    claimed = request.headers.get("Origin")
    if claimed is None:
        referer = request.headers.get("Referer")
        if not referer:
            return None
        claimed = _origin_of(referer)
    own = f"{request.scheme}://{request.host}".lower()
    if claimed is not None and claimed.lower() == own:
        return None
    from app.errors import error_response

    return error_response(403, _("请求来自其他网站（%(origin)s），已拒绝。请在本平台的页面上操作。",
                                 origin=claimed or "null"))


def add_security_headers(response):
    """The same security headers on every response; HSTS when the site is reached over TLS."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure or current_app.config["BEHIND_TLS"]:
        response.headers.setdefault("Strict-Transport-Security",
                                    f"max-age={current_app.config['HSTS_MAX_AGE_SECONDS']}")
    return response
