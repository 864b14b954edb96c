"""Login, logout, registration and the language switch."""
import pytest
from sqlalchemy import func, select

from app.common.codes import make_uscc
from app.entities import AuditEntry, CreditSubject, User
from app.extensions import db

from .. import factories
from ..conftest import csrf_token, make_app, page_text
from ..test_journey import login, logout, post_form

GOOD_CODE = make_uscc("91", "610203", "MA6X7001")


def registration(**overrides):
    data = {"kind": "enterprise", "name": "印台新企业有限公司", "code": GOOD_CODE, "town_code": "610203001",
            "display_name": "李四", "username": "newfirm", "password": "Apple-2026-red",
            "confirm": "Apple-2026-red"}
    return {**data, **overrides}


def counts():
    return (db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(CreditSubject.id))))


def test_login_with_wrong_password_says_so(app, world):
    client = app.test_client()
    response = login(client, "firm", "wrong-password-1")
    assert response.status_code == 400
    assert "用户名或密码不正确" in page_text(response)


def test_a_login_and_a_failed_one_are_both_audited(app, world):
    client = app.test_client()
    login(client, "firm", "wrong-password-1")
    login(client, "firm")
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    firm_id = world["users"]["firm"].id
    assert [(e.action, e.actor_id) for e in entries] == [("login.failed", None), ("login.success", firm_id)]
    assert entries[0].details == {"username": "firm", "reason": "wrong_password"} and entries[1].ip == "127.0.0.1"


def test_logout_really_ends_the_session(app, world):
    client = app.test_client()
    login(client, "firm")
    assert client.get("/firm/").status_code == 200
    stolen = client.get_cookie("session").value
    logout(client)
    assert client.get("/firm/").status_code == 302
    # Replaying the cookie from before logout does not bring the session back.
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/firm/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_is_rate_limited(database_url, world):
    limited = make_app(database_url, LOGIN_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    token = csrf_token(page_text(client.get("/login")))
    statuses = [client.post("/login", data={"csrf_token": token, "username": "firm",
                                            "password": "guess-1234"}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert "尝试次数过多" in page_text(client.post("/login", data={"csrf_token": token}))


def test_next_parameter_cannot_leave_the_site(app, world):
    client = app.test_client()
    token = csrf_token(page_text(client.get("/login")))
    response = client.post("/login?next=https://evil.example/", data={
        "csrf_token": token, "username": "firm", "password": factories.PASSWORD})
    assert response.headers["Location"] == "/"


def test_registration_creates_subject_and_user(app):
    client = app.test_client()
    response = post_form(client, "/register", registration())
    assert response.status_code == 302
    subject = db.session.scalars(select(CreditSubject)).one()
    assert subject.uscc == GOOD_CODE and subject.town_code == "610203001"
    registered = db.session.scalars(select(AuditEntry)).one()
    user = db.session.scalars(select(User)).one()
    assert (registered.action, registered.actor_id, registered.target_id) == ("user.register", user.id, user.id)
    assert registered.details == {"subject": str(subject.id)}
    assert client.get("/firm/").status_code == 200


def test_farmer_registers_with_household_code(app):
    client = app.test_client()
    response = post_form(client, "/register", registration(
        kind="farmer", name="王建军", code="610203106001020031", town_code="610203106"))
    assert response.status_code == 302
    assert db.session.scalars(select(CreditSubject)).one().household_id == "610203106001020031"


BAD_REGISTRATIONS = [
    ({"code": GOOD_CODE[:-1] + ("0" if GOOD_CODE[-1] != "0" else "1")}, "校验位不正确",
     "check digit is incorrect"),
    ({"code": "91610203"}, "应为 18 位", "must be 18 characters"),
    ({"code": "92" + GOOD_CODE[2:]}, None, None),
    ({"name": "长" * 121}, "不能超过 120 个字符", "cannot exceed 120 characters"),
    ({"town_code": "110101001"}, None, None),
    ({"password": "short", "confirm": "short"}, "密码至少需要", "at least"),
    ({"confirm": "Other-2026-pass"}, "两次输入的密码不一致", "do not match"),
]


@pytest.mark.parametrize(("change", "chinese", "english"), BAD_REGISTRATIONS)
def test_bad_registration_is_refused_clearly_and_saves_nothing(app, change, chinese, english):
    client = app.test_client()
    response = post_form(client, "/register", registration(**change))
    assert response.status_code == 400
    if chinese:
        assert chinese in page_text(response)
    assert counts() == (0, 0)
    if english:
        client.get("/lang/en")
        response = post_form(client, "/register", registration(**change))
        assert response.status_code == 400 and english in page_text(response)
        assert counts() == (0, 0)


def test_missing_csrf_token_is_refused_in_both_languages(app):
    client = app.test_client()
    response = client.post("/register", data=registration())
    assert response.status_code == 400
    assert "表单安全令牌缺失或已过期" in page_text(response)
    client.get("/lang/en")
    response = client.post("/register", data=registration())
    assert response.status_code == 400 and "security token" in page_text(response).lower()
    assert counts() == (0, 0)


def test_language_switch_changes_the_interface(app):
    client = app.test_client()
    assert "登录" in page_text(client.get("/login"))
    client.get("/lang/en")
    english = page_text(client.get("/login"))
    assert "Log in" in english or "Login" in english
    assert 'lang="en"' in english
