"""What the JSON API keeps: the tokens lenders' and the regulator's systems use, the responses of
requests sent with an Idempotency-Key, and the batches exchanged with the 信易贷 node."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import Timestamped, utcnow


class ApiToken(Timestamped, db.Model):
    """A bearer token of an institution's system (or the regulator's), with its scopes.

    Only the SHA-256 of the token is stored: the token itself is shown once, when it is made. Steps taken
    with it are recorded as taken by `user` (the person who answers for the token).
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, to tell tokens apart in lists without showing them.
    prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[list] = mapped_column(JSON)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped["User"] = relationship(foreign_keys=[user_id])  # noqa: F821
    institution: Mapped["Institution | None"] = relationship()  # noqa: F821

    def status_at(self, now):
        """active, revoked or expired."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"


class IdempotencyKey(db.Model):
    """The first response to a write sent with an Idempotency-Key, per token: a replay gets it back."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("token_id", "key"), Index("ix_idempotency_key_created", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None]
    body: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExchangeBatch(db.Model):
    """A signed batch exchanged with the city/province 信易贷 node (docs/exchange.md): its id, what it
    held and, for an import, what was taken and what was refused."""

    __tablename__ = "exchange_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    rejects: Mapped[list] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(default=utcnow)
