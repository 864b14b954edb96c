"""Platform users and their roles."""
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

from .base import Timestamped

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

    institution: Mapped["Institution | None"] = relationship()  # noqa: F821
    subject: Mapped["CreditSubject | None"] = relationship()  # noqa: F821

    def get_id(self):
        """Flask-Login identity: the id with the session token, so logout can revoke it."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self):
        return self.active
