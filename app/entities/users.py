"""Platform users and their roles."""
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import Timestamped, utcnow

FIRM = "firm"
LENDER_OFFICER = "lender_officer"
LENDER_ADMIN = "lender_admin"
REGULATOR = "regulator"
DATA_ADMIN = "data_admin"
PLATFORM_ADMIN = "platform_admin"


def new_session_token():
    """A fresh random token; changing it ends every login session of the user."""
    return secrets.token_hex(16)


class User(UserMixin, Timestamped, db.Model):
    """A person who logs in; lender staff belong to an institution, firm users to a subject."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("credit_subject.id"))
    active: Mapped[bool] = mapped_column(default=True)
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    last_login_at: Mapped[datetime | None]
    # A firm's owner invites colleagues to its subject and removes them; other firm users do not.
    owner: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The interface language the user chose (zh / en); None until they choose one.
    locale: Mapped[str | None] = mapped_column(String(5))
    # The password was set by an administrator (a new staff account, a reset, an officer made by its
    # institution's admin): the user must choose their own before any other page (docs/accounts.md).
    password_temporary: Mapped[bool] = mapped_column(default=False, server_default=false())

    institution: Mapped["Institution | None"] = relationship()  # noqa: F821
    subject: Mapped["CreditSubject | None"] = relationship()  # noqa: F821

    def get_id(self):
        """Flask-Login identity: the id with the session token, so logout can revoke it."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self):
        return self.active


SUBJECT_CODE = "subject"  # issued by the platform admin: the first user of an existing subject joins with it
MEMBER_INVITATION = "member"  # issued by a firm's owner: a colleague joins the same subject
INVITATION_KINDS = (SUBJECT_CODE, MEMBER_INVITATION)


class Invitation(db.Model):
    """A one-time code that lets a person join a credit subject as one of its users.

    Only the code's SHA-256 is stored: the code is shown once to whoever issued it.
    """

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(ForeignKey("credit_subject.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None]

    subject: Mapped["CreditSubject"] = relationship()  # noqa: F821
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id])

    def usable(self, now):
        """Neither used, revoked nor expired at `now`."""
        return self.used_at is None and self.revoked_at is None and now < self.expires_at
