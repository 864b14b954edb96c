"""An institution admin manages its own officers; another institution's are not found."""
import re

from app.entities import User
from app.extensions import db

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text
from ..test_journey import login


def test_the_admin_creates_an_officer_who_logs_in_with_the_shown_password(app, world):
    admin = logged_in_client(app, world["users"]["lender_admin"])
    token = csrf_token(page_text(admin.get("/lender/officers")))
    response = admin.post("/lender/officers", data={"csrf_token": token, "username": "new_officer",
                                                    "display_name": "孙八"})
    assert response.status_code == 200
    password = re.search(r"data-password>([^<]+)<", page_text(response)).group(1)
    assert login(app.test_client(), "new_officer", password).status_code == 302
    officer = db.session.scalar(db.select(User).where(User.username == "new_officer"))
    assert officer.institution == world["bank_a"] and officer.role == "lender_officer"


def test_a_duplicate_username_is_refused(app, world):
    admin = logged_in_client(app, world["users"]["lender_admin"])
    token = csrf_token(page_text(admin.get("/lender/officers")))
    response = admin.post("/lender/officers", data={"csrf_token": token, "username": "firm", "display_name": "重名"})
    assert response.status_code == 400 and "已被使用" in page_text(response)


def test_the_admin_deactivates_its_officer_whose_session_ends(app, world):
    officer_client = logged_in_client(app, world["users"]["officer"])
    assert officer_client.get("/lender/").status_code == 200
    admin = logged_in_client(app, world["users"]["lender_admin"])
    token = csrf_token(page_text(admin.get("/lender/officers")))
    assert admin.post(f"/lender/officers/{world['users']['officer'].id}/active",
                      data={"csrf_token": token}).status_code == 302
    assert db.session.get(User, world["users"]["officer"].id).active is False
    assert officer_client.get("/lender/").status_code == 302


def test_another_institutions_officer_is_not_found(app, world):
    admin = logged_in_client(app, world["users"]["lender_admin"])
    token = csrf_token(page_text(admin.get("/lender/officers")))
    other = world["users"]["officer_other"]
    assert admin.post(f"/lender/officers/{other.id}/active", data={"csrf_token": token}).status_code == 404
    assert db.session.get(User, other.id).active is True
    assert "officer_other" not in page_text(admin.get("/lender/officers"))
    other_admin = factories.UserFactory(username="admin_b", role="lender_admin", institution=world["bank_b"])
    db.session.commit()
    client_b = logged_in_client(app, other_admin)
    token_b = csrf_token(page_text(client_b.get("/lender/officers")))
    assert client_b.post(f"/lender/officers/{world['users']['officer'].id}/active",
                         data={"csrf_token": token_b}).status_code == 404
    assert db.session.get(User, world["users"]["officer"].id).active is True
