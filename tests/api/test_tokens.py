"""API tokens: stored hashed, scoped, expiring, revocable; the session cookie is no token."""
from datetime import timedelta

import pytest
from flask import json

from app.common.errors import InvalidInput, NotAllowed
from app.entities import ApiToken
from app.entities.base import utcnow
from app.extensions import db
from app.services import api_tokens

from ..conftest import logged_in_client
from .conftest import bearer, make_token

LIST = "/api/v1/applications"


def test_only_the_hash_is_stored(app, world):
    token, plain = make_token(world["users"]["lender_admin"])
    stored = db.session.get(ApiToken, token.id)
    assert plain.startswith("yt_") and len(plain) > 40
    assert stored.token_hash == api_tokens.token_hash(plain) and plain not in (stored.token_hash, stored.prefix)
    assert plain.startswith(stored.prefix)


def test_missing_wrong_revoked_or_expired_tokens_get_401(app, world):
    client = app.test_client()
    token, plain = make_token(world["users"]["lender_admin"])
    assert client.get(LIST).status_code == 401
    assert client.get(LIST, headers=bearer("yt_not-a-token")).status_code == 401
    assert client.get(LIST, headers=bearer(plain)).status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.get(LIST, headers=bearer(plain))
    assert expired.status_code == 401 and expired.mimetype == "application/problem+json"
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    token.expires_at = utcnow() + timedelta(days=1)
    api_tokens.revoke(db.session, token, world["users"]["lender_admin"])
    db.session.commit()
    assert client.get(LIST, headers=bearer(plain)).status_code == 401


def test_a_deactivated_holder_ends_the_token(app, world):
    _token, plain = make_token(world["users"]["officer"])
    world["users"]["officer"].active = False
    db.session.commit()
    assert app.test_client().get(LIST, headers=bearer(plain)).status_code == 401


def test_the_session_cookie_is_not_a_token(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    application_id = world["application"].id
    assert client.get(LIST).status_code == 401
    refused = client.post(f"/api/v1/applications/{application_id}/review", json={}, headers={"Idempotency-Key": "a"})
    assert refused.status_code == 401
    assert world["application"].status == "submitted"


def test_last_use_is_recorded(app, world):
    token, plain = make_token(world["users"]["lender_admin"])
    assert token.last_used_at is None
    app.test_client().get(LIST, headers=bearer(plain))
    assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_scopes_follow_the_holder(app, world):
    users = world["users"]
    with pytest.raises(InvalidInput):
        api_tokens.create(db.session, users["lender_admin"], users["lender_admin"], "x", ["market:read"], 30)
    with pytest.raises(InvalidInput):
        api_tokens.create(db.session, users["regulator"], users["regulator"], "x", ["decisions:write"], 30)
    with pytest.raises(InvalidInput):
        api_tokens.create(db.session, users["lender_admin"], users["lender_admin"], "x", ["applications:read"], 400)
    with pytest.raises(NotAllowed):
        api_tokens.create(db.session, users["firm"], users["firm"], "x", ["applications:read"], 30)
    with pytest.raises(NotAllowed):  # an admin makes tokens for its own institution only
        api_tokens.create(db.session, users["officer_other"], users["lender_admin"], "x", ["applications:read"], 30)


def test_cli_prints_the_token_once_as_json(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api", "token", "create", "--institution", str(world["bank_a"].id),
                                 "--scopes", "applications:read,decisions:write", "--name", "信贷系统"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output.strip().splitlines()[-1])
    assert printed["scopes"] == ["applications:read", "decisions:write"] and printed["holder"] == "lender_admin"
    assert app.test_client().get(LIST, headers=bearer(printed["token"])).status_code == 200
    refused = runner.invoke(args=["api", "token", "create", "--institution", str(world["bank_a"].id),
                                  "--scopes", "market:read", "--name", "x"])
    assert refused.exit_code != 0
    revoked = runner.invoke(args=["api", "token", "revoke", str(printed["id"]), "--by", "lender_admin"])
    assert revoked.exit_code == 0, revoked.output
    assert app.test_client().get(LIST, headers=bearer(printed["token"])).status_code == 401

