"""Security headers on every page, cookies, the production checks, the Origin check and body limits."""
import io
import re
from pathlib import Path

import pytest
from flask import url_for

from app import create_app
from app.config import DEVELOPMENT_ID_HASH_KEY, DEVELOPMENT_SECRET_KEY, Config, TestConfig
from app.extensions import csrf
from app.security import ATTACHMENT_ENDPOINTS, UPLOAD_ENDPOINTS, ConfigurationError

from .auth.test_routes import counts, registration
from .conftest import csrf_token, logged_in_client, make_app, page_text
from .test_access import ANON, TABLE, batch_with_rejects, identity_release, url_args

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
TEMPLATES = Path(__file__).resolve().parent.parent / "app" / "templates"
REAL_KEY = "k" * 48


def assert_security_headers(response, where):
    """The headers every response must carry, with a CSP that allows nothing inline or foreign."""
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{where}: {name}"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["frame-ancestors"] == "'none'", where
    for directive in ("default-src", "script-src", "style-src"):
        assert policy[directive] == "'self'", f"{where}: {directive}"
    assert "unsafe" not in response.headers["Content-Security-Policy"], where
    assert "Strict-Transport-Security" not in response.headers, f"{where}: HSTS over plain HTTP"


def _persona_for(allowed):
    return next((p for p in ("firm", "officer", "lender_admin", "regulator", "data_admin", "platform_admin")
                 if p in allowed), ANON)


def test_every_page_sends_the_security_headers(app, world, database_url, tmp_path):
    unchecked = make_app(database_url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False,
                         REJECT_DIR=str(tmp_path / "rejects"), UPLOAD_DIR=str(tmp_path / "uploads"))
    args = url_args(world, batch_with_rejects(tmp_path / "rejects"), identity_release(world))
    rules = sorted(unchecked.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.endpoint))
    with unchecked.test_request_context():
        urls = [(r.endpoint, url_for(r.endpoint, **{k: args[k] for k in r.arguments})) for r in rules]
    clients = {}
    for endpoint, url in urls:
        method, allowed = TABLE.get(endpoint, ("GET", {ANON}))
        persona = _persona_for(allowed)
        client = clients.setdefault(persona, logged_in_client(
            unchecked, None if persona == ANON else world["users"][persona]))
        response = client.get(url) if method == "GET" else client.post(url, data={})
        assert_security_headers(response, f"{persona} {method} {url} → {response.status_code}")
    # Refusals and errors carry them too.
    anonymous = unchecked.test_client()
    for url in ("/firm/", "/no-such-page", "/api/v1/products", "/regulator/"):
        assert_security_headers(anonymous.get(url), url)
    assert_security_headers(clients["firm"].get("/regulator/"), "firm on /regulator/")


def test_hsts_only_when_the_site_is_reached_over_tls(database_url):
    plain = make_app(database_url).test_client()
    assert "Strict-Transport-Security" not in plain.get("/login").headers
    tls = plain.get("/login", base_url="https://localhost")
    assert tls.headers["Strict-Transport-Security"] == f"max-age={365 * 24 * 3600}"
    # Behind a TLS proxy: its X-Forwarded-Proto is believed only when the proxy is trusted.
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in plain.get("/login", headers=forwarded).headers
    proxied = make_app(database_url, TRUSTED_PROXIES=1).test_client()
    assert "Strict-Transport-Security" in proxied.get("/login", headers=forwarded).headers
    declared = make_app(database_url, BEHIND_TLS=True).test_client()
    assert "Strict-Transport-Security" in declared.get("/login").headers


def session_cookie(response):
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def test_the_session_cookie_is_httponly_lax_and_secure_when_configured(database_url):
    cookie = session_cookie(make_app(database_url).test_client().get("/login"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = make_app(database_url, SESSION_COOKIE_SECURE=True).test_client()
    assert "Secure" in session_cookie(secure.get("/login", base_url="https://localhost"))


def test_production_makes_the_cookies_secure_unless_told_otherwise(monkeypatch):
    monkeypatch.setenv("PRODUCTION", "1")
    settings = Config.from_environment()
    assert settings["PRODUCTION"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["REMEMBER_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    settings = Config.from_environment()
    assert settings["SESSION_COOKIE_SECURE"] is False and settings["TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("TRUSTED_PROXIES", "two")
    with pytest.raises(ValueError, match="whole number"):
        Config.from_environment()
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    monkeypatch.delenv("PRODUCTION")
    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    assert Config.from_environment()["SESSION_COOKIE_SECURE"] is False


def production(**changes):
    return {**TestConfig.settings(), "PRODUCTION": True, "SECRET_KEY": REAL_KEY,
            "ID_HASH_KEY": REAL_KEY[::-1], "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", **changes}


@pytest.mark.parametrize(("change", "says"), [
    ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY"),
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"SECRET_KEY": "short-but-not-default"}, "SECRET_KEY"),
    ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI"),
    ({"ID_HASH_KEY": DEVELOPMENT_ID_HASH_KEY}, "ID_HASH_KEY"),
    ({"ID_HASH_KEY": "short"}, "ID_HASH_KEY"),
])
def test_production_refuses_to_start_with_development_settings(change, says):
    with pytest.raises(ConfigurationError, match=says):
        create_app(production(**change))


def test_production_starts_with_real_settings_and_the_demo_with_the_development_key():
    assert create_app(production()).config["PRODUCTION"] is True
    demo = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert demo.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY and not demo.config["PRODUCTION"]


def test_production_from_the_environment_refuses_the_development_key(monkeypatch):
    monkeypatch.setenv("PRODUCTION", "yes")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", REAL_KEY)
    monkeypatch.delenv("ID_HASH_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="ID_HASH_KEY"):
        create_app()
    monkeypatch.setenv("ID_HASH_KEY", REAL_KEY[::-1])
    assert create_app().config["SESSION_COOKIE_SECURE"] is True


def register_with(client, headers):
    token = csrf_token(page_text(client.get("/register")))
    return client.post("/register", data={"csrf_token": token, **registration()}, headers=headers)


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://localhost:8080"},
    {"Referer": "https://evil.example/form.html"},
    {"Origin": "https://evil.example", "Referer": "http://localhost/register"},
])
def test_a_foreign_origin_is_refused_even_with_a_valid_token(app, headers):
    client = app.test_client()
    response = register_with(client, headers)
    assert response.status_code == 403 and "请求来自其他网站" in page_text(response)
    assert counts() == (0, 0)
    client.get("/lang/en")
    response = register_with(client, headers)
    assert response.status_code == 403 and "came from another site" in page_text(response)


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://localhost"}, {"Referer": "http://localhost/register"}])
def test_the_platforms_own_pages_may_post(app, headers):
    assert register_with(app.test_client(), headers).status_code == 302
    assert counts() == (1, 1)


def probe():
    """Stands for /healthz, /readyz and /metrics, which machines call without a CSRF token."""
    return "ok"


def test_a_foreign_origin_gets_json_from_the_api_and_probes_are_exempt(app):
    app.add_url_rule("/metrics", "probe", csrf.exempt(probe), methods=["POST"])
    client = app.test_client()
    response = client.post("/api/v1/products", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and "请求来自其他网站" in response.get_json()["error"]["message"]
    assert client.post("/metrics", headers={"Origin": "https://evil.example"}).status_code == 200


def test_a_large_form_is_refused_before_it_is_read_in_both_languages(app):
    client = app.test_client()
    token = csrf_token(page_text(client.get("/register")))
    body = {"csrf_token": token, **registration(name="长" * (1024 * 1024))}  # 3 MB in UTF-8
    response = client.post("/register", data=body)
    assert response.status_code == 413 and "提交的内容过大：此页面最多接受 2 MB" in page_text(response)
    assert counts() == (0, 0)
    client.get("/lang/en")
    response = client.post("/register", data=body)
    assert response.status_code == 413 and "this page accepts at most 2 MB" in page_text(response)


def post_file(client, page, size, name):
    token = csrf_token(page_text(client.get(page)))
    return client.post(page, data={"csrf_token": token, "file": (io.BytesIO(b"x" * size), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize(("page", "persona", "name"), [("/data/upload", "data_admin", "a.csv"),
                                                       ("/lender/feedback", "officer", "贷后反馈.csv")])
def test_upload_pages_take_large_files_up_to_their_own_limit(database_url, world, tmp_path, page, persona, name):
    big = make_app(database_url, MAX_UPLOAD_BYTES=4 * 1024 * 1024, REJECT_DIR=str(tmp_path / "r"),
                   UPLOAD_DIR=str(tmp_path / "u"))
    client = logged_in_client(big, world["users"][persona])
    # 3 MB is over the forms' limit but the upload pages read it (and judge its content).
    assert post_file(client, page, 3 * 1024 * 1024, name).status_code != 413
    response = post_file(client, page, 5 * 1024 * 1024, name)
    assert response.status_code == 413 and "上传的文件过大：此页面最多接受 4 MB" in page_text(response)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_needs_unsafe_inline():
    found = [f"{path.relative_to(TEMPLATES)}: {what}" for path in sorted(TEMPLATES.rglob("*.html"))
             for pattern, what in INLINE if pattern.search(path.read_text(encoding="utf-8"))]
    assert found == []


def test_every_page_with_a_file_field_has_the_upload_limit(app):
    multipart = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                       if "multipart/form-data" in path.read_text(encoding="utf-8"))
    # A new upload page must join UPLOAD_ENDPOINTS or ATTACHMENT_ENDPOINTS (app/security.py), else its
    # files stop at 2 MB. The message form (messages/_parts.html) is drawn by the message pages.
    assert multipart == ["dataadmin/upload.html", "lender/feedback.html", "messages/_parts.html"]
    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= UPLOAD_ENDPOINTS | ATTACHMENT_ENDPOINTS
