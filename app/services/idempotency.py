"""Idempotency keys of API writes: the first request with a key acts, a replay gets its response back.

Insert first: the request's key row is inserted (unique per token and key) before the action runs, in the
action's own transaction, and the response is written on it before the commit. A concurrent request with
the same key blocks on the unique index until the first commits (PostgreSQL; SQLite serialises writers),
then finds the stored response and returns it: the action happens once. A crash before the commit keeps
neither the action nor the key, so the client's retry acts.
"""
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.common.errors import InvalidInput
from app.entities import IdempotencyKey
from app.entities.base import utcnow

MAX_KEY = 255


class KeyMismatch(Exception):
    """The key was used with another request (422)."""


@dataclass(frozen=True)
class Stored:
    """The response a replay returns."""

    status: int
    body: dict


def request_hash(method, path, body):
    """SHA-256 of what makes two requests the same: method, path and the body's bytes."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body or b"")
    return digest.hexdigest()


def checked_key(key):
    """The header's key, stripped; InvalidInput when missing or too long."""
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(_("写操作须带 Idempotency-Key 请求头（1 至 %(n)d 个字符）。", n=MAX_KEY),
                           "Idempotency-Key")
    return key


def _expiry(now):
    return now - timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])


def claim(session, token_id, key, digest, now=None):
    """Insert the key row for this request (flushed, uncommitted) and return it; or the Stored response of
    an earlier request with the key. KeyMismatch when that request was another. A key older than
    IDEMPOTENCY_KEY_HOURS is forgotten first."""
    now = now or utcnow()
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.token_id == token_id,
                                                 IdempotencyKey.created_at < _expiry(now)))
    row = IdempotencyKey(token_id=token_id, key=key, request_hash=digest, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        earlier = session.scalars(select(IdempotencyKey).where(IdempotencyKey.token_id == token_id,
                                                               IdempotencyKey.key == key)).first()
        if earlier is None:  # the first request failed and left nothing: this one acts
            return claim(session, token_id, key, digest, now)
        if earlier.request_hash != digest:
            raise KeyMismatch() from None
        return Stored(earlier.status, earlier.body)
    return row


def remember(row, status, body):
    """Keep the response on the claimed key row (committed with the action)."""
    row.status = status
    row.body = json.loads(json.dumps(body))


def purge(session, now=None):
    """Delete every expired key; returns how many."""
    return session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < _expiry(now or utcnow())))\
        .rowcount
