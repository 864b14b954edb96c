"""Login and registration limits: per account and per address, shared by every worker through Redis,
behind a configured number of trusted proxies; every refused login audited without the password."""
import pytest
import redis
from sqlalchemy import select

from app.entities import AuditEntry
from app.extensions import db, limiter

from .. import factories
from ..conftest import csrf_token, make_app, page_text
from .test_routes import registration


def attempt(client, username, password="guess-2026-x", address="127.0.0.1", forwarded=None):
    """One login POST from `address` (the socket's), optionally claiming X-Forwarded-For: `forwarded`."""
    environ = {"REMOTE_ADDR": address}
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    token = csrf_token(page_text(client.get("/login", environ_base=environ)))
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password},
                       environ_base=environ, headers=headers)


def worker(database_url, redis_url, **settings):
    """An app like one gunicorn worker of production: its own limiter storage object on the shared Redis."""
    limits = {"LOGIN_RATE_LIMIT": "10 per minute", "LOGIN_ACCOUNT_RATE_LIMIT": "3 per 15 minutes"}
    return make_app(database_url, RATELIMIT_STORAGE_URI=redis_url, **{**limits, **settings})


def failed_logins():
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == "login.failed")
                              .order_by(AuditEntry.id)).all()


def test_two_workers_on_one_redis_share_the_counts(database_url, redis_url, world):
    first = worker(database_url, redis_url).test_client()
    assert [attempt(first, "firm").status_code for _ in range(3)] == [400, 400, 400]
    # A second worker (a new limiter storage, as in another process or after a restart) knows.
    second = worker(database_url, redis_url).test_client()
    response = attempt(second, "firm", factories.PASSWORD)
    assert response.status_code == 429 and "该账户登录尝试次数过多" in page_text(response)
    assert redis.Redis.from_url(redis_url).keys("*account:firm*")


def test_a_new_address_cannot_bypass_the_account_limit(database_url, redis_url, world):
    client = worker(database_url, redis_url).test_client()
    for n in range(3):
        assert attempt(client, "firm", address=f"10.0.0.{n + 1}").status_code == 400
    response = attempt(client, "FIRM", factories.PASSWORD, address="10.9.9.9")
    assert response.status_code == 429 and "该账户登录尝试次数过多" in page_text(response)
    # The address is not blamed: another account logs in from it.
    assert attempt(client, "officer", factories.PASSWORD, address="10.9.9.9").status_code == 302


def test_a_successful_login_does_not_count(database_url, redis_url, world):
    client = worker(database_url, redis_url, LOGIN_ACCOUNT_RATE_LIMIT="2 per 15 minutes").test_client()
    for _ in range(4):
        assert attempt(client, "firm", factories.PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(page_text(client.get("/firm/")))})
    assert attempt(client, "firm").status_code == 400


def test_a_spoofed_forwarded_for_is_ignored_without_trusted_proxies(database_url, redis_url, world):
    client = worker(database_url, redis_url, LOGIN_RATE_LIMIT="3 per minute").test_client()
    statuses = [attempt(client, f"nobody{n}", address="10.0.0.7", forwarded=f"203.0.113.{n}").status_code
                for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert {entry.ip for entry in failed_logins()} == {"10.0.0.7"}


def test_the_forwarded_for_of_one_trusted_proxy_is_the_client(database_url, redis_url, world):
    client = worker(database_url, redis_url, LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=1).test_client()
    # Many clients behind the one proxy are many addresses, not one.
    statuses = [attempt(client, f"nobody{n}", address="10.0.0.7", forwarded=f"203.0.113.{n}").status_code
                for n in range(4)]
    assert statuses == [400] * 4
    assert [entry.ip for entry in failed_logins()] == [f"203.0.113.{n}" for n in range(4)]
    # One client behind it is limited by its own address; only the last hop (the proxy's) is believed.
    statuses = [attempt(client, f"other{n}", address="10.0.0.7", forwarded=f"198.51.100.{n}, 203.0.113.99")
                .status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_the_lockout_says_when_to_try_again_in_both_languages(database_url, world):
    client = make_app(database_url, LOGIN_ACCOUNT_RATE_LIMIT="1 per 15 minutes").test_client()
    attempt(client, "firm")
    response = attempt(client, "firm", factories.PASSWORD)
    text = page_text(response)
    assert response.status_code == 429 and "请在 15 分钟后" in text
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    client.get("/lang/en")
    text = page_text(attempt(client, "firm", factories.PASSWORD))
    assert "This account is locked" in text and "try again in 15 minutes" in text


def test_every_failed_login_is_audited_without_the_password(app, world):
    client = app.test_client()
    attempt(client, "firm", "Secret-guess-1")
    attempt(client, "nosuchuser", "Secret-guess-2")
    world["users"]["officer"].active = False
    db.session.commit()
    attempt(client, "officer", factories.PASSWORD)
    entries = failed_logins()
    assert [(e.details["username"], e.details["reason"]) for e in entries] == [
        ("firm", "wrong_password"), ("nosuchuser", "unknown_user"), ("officer", "inactive")]
    assert entries[0].target_id == world["users"]["firm"].id and entries[1].target_id is None
    assert all(e.ip == "127.0.0.1" and e.target_type == "User" for e in entries)
    stored = " ".join(str(e.details) for e in entries)
    assert "Secret-guess" not in stored and factories.PASSWORD not in stored


def test_a_login_refused_by_the_lockout_is_audited_once(database_url, world):
    client = make_app(database_url, LOGIN_RATE_LIMIT="1 per minute",
                      LOGIN_ACCOUNT_RATE_LIMIT="1 per 15 minutes").test_client()
    attempt(client, "firm")
    assert attempt(client, "firm", factories.PASSWORD).status_code == 429
    assert [e.details["reason"] for e in failed_logins()] == ["wrong_password", "locked"]


def test_registration_is_limited_per_address(database_url, world):
    client = make_app(database_url, REGISTER_RATE_LIMIT="2 per hour").test_client()
    for _ in range(2):
        token = csrf_token(page_text(client.get("/register")))
        assert client.post("/register", data={"csrf_token": token, **registration(code="bad")}).status_code == 400
    token = csrf_token(page_text(client.get("/register")))
    response = client.post("/register", data={"csrf_token": token, **registration()})
    assert response.status_code == 429 and "注册请求过多" in page_text(response)
    other = client.post("/register", data={"csrf_token": token, **registration()},
                        environ_base={"REMOTE_ADDR": "10.0.0.8"})
    assert other.status_code != 429


@pytest.fixture()
def storage_revived():
    """The limiter object is one per process and marks its storage dead for good once it fails (a new app's
    init_app does not clear that): made alive again after the test, so later tests count in their own storage."""
    yield
    limiter._storage_dead = False  # flask-limiter keeps no public way to say the storage is back


def test_an_unreachable_redis_degrades_to_limits_in_the_worker_not_a_500(database_url, world, storage_revived):
    """Redis down (a closed port): logins still work and the limits still hold, in the worker's memory."""
    client = worker(database_url, "redis://127.0.0.1:1/0").test_client()
    assert [attempt(client, "firm").status_code for _ in range(3)] == [400, 400, 400]
    assert attempt(client, "firm", factories.PASSWORD).status_code == 429
    other = worker(database_url, "redis://127.0.0.1:1/0").test_client()
    assert attempt(other, "officer", factories.PASSWORD).status_code == 302
