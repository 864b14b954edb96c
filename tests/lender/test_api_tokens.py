"""The institution admin's API token page: a token is shown once, listed by its prefix, and revoked."""
import re

from app.entities import ApiToken
from app.extensions import db
from app.services import api_tokens

from ..conftest import csrf_token, logged_in_client, page_text
from ..factories import UserFactory

LIST = "/api/v1/applications"


def test_admin_makes_sees_once_and_revokes_a_token(app, world):
    client = logged_in_client(app, world["users"]["lender_admin"])
    page = client.get("/lender/api-tokens")
    assert page.status_code == 200
    made = client.post("/lender/api-tokens", data={"csrf_token": csrf_token(page_text(page)), "name": "信贷系统",
                                                   "scopes": ["applications:read", "decisions:write"], "days": 30})
    plain = re.search(r"<code data-token>([^<]+)</code>", page_text(made)).group(1)
    token = db.session.scalars(db.select(ApiToken)).one()
    assert token.scopes == ["applications:read", "decisions:write"] and token.institution_id == world["bank_a"].id
    listing = page_text(client.get("/lender/api-tokens"))
    assert token.prefix in listing and plain not in listing
    assert app.test_client().get(LIST, headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    revoked = client.post(f"/lender/api-tokens/{token.id}/revoke", data={"csrf_token": csrf_token(listing)})
    assert revoked.status_code == 302
    assert app.test_client().get(LIST, headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_a_regulator_scope_is_not_offered_nor_taken(app, world):
    client = logged_in_client(app, world["users"]["lender_admin"])
    page = client.get("/lender/api-tokens")
    assert "market:read" not in page_text(page)
    refused = client.post("/lender/api-tokens", data={"csrf_token": csrf_token(page_text(page)), "name": "x",
                                                      "scopes": ["market:read"], "days": 30})
    assert refused.status_code == 400 and db.session.scalars(db.select(ApiToken)).all() == []


def test_another_institutions_token_is_404(app, world):
    other = logged_in_client(app, world["users"]["lender_admin"])
    admin_b = UserFactory(username="admin_b", role="lender_admin", institution=world["bank_b"])
    token, _plain = api_tokens.create(db.session, admin_b, admin_b, "乙的系统", ["applications:read"], 30)
    db.session.commit()
    page = other.get("/lender/api-tokens")
    assert other.post(f"/lender/api-tokens/{token.id}/revoke",
                      data={"csrf_token": csrf_token(page_text(page))}).status_code == 404
    assert db.session.get(ApiToken, token.id).revoked_at is None
