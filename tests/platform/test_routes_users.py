"""The platform admin: staff accounts, deactivation, password reset and a subject's invitation code."""
import re

from app.entities import User
from app.extensions import db

from ..conftest import csrf_token, logged_in_client, page_text
from ..test_journey import login, post_form


def admin_client(app, world):
    return logged_in_client(app, world["users"]["platform_admin"])


def test_the_admin_creates_a_staff_account(app, world):
    client = admin_client(app, world)
    response = post_form(client, "/platform/", {"role": "lender_admin", "institution_id": world["bank_b"].id,
                                                "username": "admin_b", "display_name": "周九"})
    assert response.status_code == 200
    password = re.search(r"data-password>([^<]+)<", page_text(response)).group(1)
    assert login(app.test_client(), "admin_b", password).status_code == 302
    assert db.session.scalar(db.select(User).where(User.username == "admin_b")).institution == world["bank_b"]


def test_a_lender_role_without_an_institution_is_refused(app, world):
    response = post_form(admin_client(app, world), "/platform/", {
        "role": "lender_officer", "institution_id": 0, "username": "lost", "display_name": "无机构"})
    assert response.status_code == 400 and "机构" in page_text(response)


def test_a_reset_ends_the_users_sessions_and_shows_a_new_password(app, world):
    officer = logged_in_client(app, world["users"]["officer"])
    client = admin_client(app, world)
    token = csrf_token(page_text(client.get("/platform/")))
    response = client.post(f"/platform/users/{world['users']['officer'].id}/reset", data={"csrf_token": token})
    password = re.search(r"data-password>([^<]+)<", page_text(response)).group(1)
    assert officer.get("/lender/").status_code == 302
    assert login(app.test_client(), "officer", password).status_code == 302


def test_deactivating_a_user_ends_their_sessions(app, world):
    firm = logged_in_client(app, world["users"]["firm"])
    client = admin_client(app, world)
    token = csrf_token(page_text(client.get("/platform/")))
    client.post(f"/platform/users/{world['users']['firm'].id}/active", data={"csrf_token": token})
    assert firm.get("/firm/").status_code == 302
    client.post(f"/platform/users/{world['users']['platform_admin'].id}/active", data={"csrf_token": token})
    assert "不能停用自己的账户" in page_text(client.get("/platform/"))


def test_the_admin_finds_a_subject_and_issues_its_code(app, world):
    client = admin_client(app, world)
    page = page_text(client.get("/platform/subjects", query_string={"q": "陈炉甲"}))
    assert "陈炉甲陶瓷有限公司" in page and "红土乙" not in page
    token = csrf_token(page)
    response = client.post(f"/platform/subjects/{world['firm'].id}/code", data={"csrf_token": token})
    code = re.search(r"data-invitation-code>([A-Z0-9-]+)<", page_text(response)).group(1)
    response = post_form(app.test_client(), "/join", {"code": code, "display_name": "法人", "username": "legalrep",
                                                      "password": "Apple-2026-red", "confirm": "Apple-2026-red"})
    assert response.status_code == 302


def test_a_missing_subject_or_user_is_not_found(app, world):
    client = admin_client(app, world)
    token = csrf_token(page_text(client.get("/platform/")))
    assert client.post("/platform/subjects/999999/code", data={"csrf_token": token}).status_code == 404
    assert client.post("/platform/users/999999/reset", data={"csrf_token": token}).status_code == 404
