"""API tokens of institutions' and the regulator's systems: made with scopes and an expiry, stored as a
SHA-256 (the token is shown once), revoked by their institution's admin, checked on every API request.

A token is 32 random bytes: a hash without salt or stretching is enough for a secret no one can guess
(unlike a password), and it lets a request find its token with one indexed lookup.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.common.errors import InvalidInput, NotAllowed
from app.common.vocab import LENDER_API_SCOPES, LENDER_ROLES, REGULATOR_API_SCOPES
from app.entities import ApiToken, User
from app.entities.base import utcnow
from app.entities.users import LENDER_ADMIN, REGULATOR

from . import audit

TOKEN_PREFIX = "yt_"
MAX_NAME = 80
# Writing "last used" at most this often per token: one UPDATE per request would make every read a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(plain):
    """The stored form of a token."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def new_token():
    """A fresh token (what the client sends after `Bearer `)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _checked(name, scopes, days, holder):
    """(name, scopes in their vocabulary order, days) once they pass for a token acting as `holder`."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(_("令牌名称不能为空，且不超过 %(n)d 个字符。", n=MAX_NAME), "name")
    allowed = REGULATOR_API_SCOPES if holder.role == REGULATOR else LENDER_API_SCOPES
    scopes = set(scopes or ())
    if not scopes or scopes - set(allowed):
        raise InvalidInput(_("请选择令牌的权限范围，只能是：%(s)s。", s="、".join(allowed)), "scopes")
    longest = current_app.config["API_TOKEN_MAX_DAYS"]
    if days is None or not 1 <= days <= longest:
        raise InvalidInput(_("有效天数应在 1 到 %(n)d 之间。", n=longest), "days")
    return name, [s for s in allowed if s in scopes], days


def create(session, holder, creator, name, scopes, days, now=None):
    """Stage a token acting as `holder` (an institution's admin or officer, or a regulator) made by
    `creator`; returns (token row, the token itself, to be shown once)."""
    if not holder.active or holder.role not in (*LENDER_ROLES, REGULATOR):
        raise NotAllowed(_("只有机构工作人员或监管部门的有效账户可以持有接口令牌。"))
    if creator.role == LENDER_ADMIN and creator.institution_id != holder.institution_id:
        raise NotAllowed(_("只能为本机构创建接口令牌。"))
    name, scopes, days = _checked(name, scopes, days, holder)
    now = now or utcnow()
    plain = new_token()
    token = ApiToken(institution_id=holder.institution_id, user_id=holder.id, name=name, token_hash=token_hash(plain),
                     prefix=plain[:len(TOKEN_PREFIX) + 6], scopes=scopes, expires_at=now + timedelta(days=days),
                     created_by_id=creator.id, created_at=now)
    session.add(token)
    session.flush()
    audit.record(session, creator, "api_token.create", token, name=name, scopes=",".join(scopes), days=days)
    return token, plain


def revoke(session, token, admin, now=None):
    """Revoke a token now; its next request is refused."""
    if token.revoked_at is not None:
        raise NotAllowed(_("该令牌已吊销。"))
    token.revoked_at = now or utcnow()
    audit.record(session, admin, "api_token.revoke", token, name=token.name)


def tokens_of(session, institution_id):
    """An institution's tokens, newest first."""
    return session.scalars(select(ApiToken).where(ApiToken.institution_id == institution_id)
                           .order_by(ApiToken.id.desc())).all()


def authenticate(session, plain, now=None):
    """The active token whose holder is still active, or None (unknown, revoked, expired, holder gone).

    Marks its last use (at most once a minute)."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 128:
        return None
    now = now or utcnow()
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(plain))
                            .options(joinedload(ApiToken.user))).first()
    if token is None or token.status_at(now) != "active" or not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                        .execution_options(synchronize_session=False))
        token.last_used_at = now
    return token


def default_holder(session, institution_id):
    """The institution's first active admin: who answers for a token made on the command line."""
    return session.scalars(select(User).where(User.institution_id == institution_id, User.role == LENDER_ADMIN,
                                              User.active.is_(True)).order_by(User.id)).first()
