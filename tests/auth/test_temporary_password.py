"""A password an administrator set (a reset, a new staff account, an officer made by its institution's admin)
is changed at the first login before any other page."""
import re

from app.entities import User
from app.extensions import db

from ..conftest import csrf_token, logged_in_client, page_text
from ..test_journey import login, post_form

NEW_PASSWORD = "Plum-2026-river"


def shown_password(response):
    return re.search(r"data-password>([^<]+)<", page_text(response)).group(1)


def change(client, current):
    return post_form(client, "/account/password", {"current": current, "password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD})


def assert_held_at_the_password_page(client, home):
    response = client.get(home)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    assert "临时密码" in page_text(client.get("/account/password"))
    assert client.get("/api/v1/products").status_code == 403
    assert client.get("/notifications/").status_code == 302


def test_a_reset_password_must_be_changed_before_any_other_page(app, world):
    admin = logged_in_client(app, world["users"]["platform_admin"])
    token = csrf_token(page_text(admin.get("/platform/")))
    password = shown_password(admin.post(f"/platform/users/{world['users']['officer'].id}/reset",
                                         data={"csrf_token": token}))
    officer = app.test_client()
    assert login(officer, "officer", password).status_code == 302
    assert_held_at_the_password_page(officer, "/lender/")
    assert officer.get("/lang/en").status_code == 302  # the language may still be switched
    assert change(officer, password).status_code == 302
    assert officer.get("/lender/").status_code == 200
    assert officer.get("/api/v1/products").status_code == 200
    assert db.session.get(User, world["users"]["officer"].id).password_temporary is False


def test_a_new_staff_account_changes_its_generated_password_first(app, world):
    admin = logged_in_client(app, world["users"]["platform_admin"])
    password = shown_password(post_form(admin, "/platform/", {
        "role": "regulator", "institution_id": 0, "username": "reg_two", "display_name": "吴十"}))
    client = app.test_client()
    login(client, "reg_two", password)
    assert_held_at_the_password_page(client, "/regulator/")
    change(client, password)
    assert client.get("/regulator/").status_code == 200


def test_an_officer_made_by_the_institution_admin_changes_the_password_first(app, world):
    admin = logged_in_client(app, world["users"]["lender_admin"])
    password = shown_password(post_form(admin, "/lender/officers", {"username": "officer_two",
                                                                     "display_name": "郑十一"}))
    client = app.test_client()
    login(client, "officer_two", password)
    assert_held_at_the_password_page(client, "/lender/")
    response = change(client, "wrong-pass-1")
    assert response.status_code == 400 and "当前密码不正确" in page_text(response)
    assert client.get("/lender/").status_code == 302  # still held: a refused change changes nothing
    change(client, password)
    assert client.get("/lender/").status_code == 200


def test_a_password_the_user_chose_is_not_held(app, world):
    client = app.test_client()
    login(client, "firm")
    assert client.get("/firm/").status_code == 200
