"""Tokens for the API tests."""
import pytest

from app.common.vocab import LENDER_API_SCOPES
from app.extensions import db
from app.services import api_tokens


def make_token(holder, scopes=tuple(LENDER_API_SCOPES), days=30, name="贷款系统"):
    """A committed token acting as `holder` with `scopes`; returns (row, the token)."""
    token, plain = api_tokens.create(db.session, holder, holder, name, list(scopes), days)
    db.session.commit()
    return token, plain


def bearer(plain, key=None):
    """The headers of a request with the token (and an Idempotency-Key)."""
    headers = {"Authorization": f"Bearer {plain}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


@pytest.fixture
def lender_token(world):
    """Bank A's token with every lender scope, held by its admin."""
    return make_token(world["users"]["lender_admin"])[1]
