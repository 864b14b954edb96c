"""Routes of the platform-admin area."""
from flask import render_template
from sqlalchemy import select

from app.access import role_required
from app.entities import AuditEntry, Institution, User
from app.extensions import db
from app.platform import bp

platform_admin_only = role_required("platform_admin")


@bp.get("/")
@platform_admin_only
def users():
    """Every user with role and affiliation, and every institution."""
    return render_template(
        "platform/users.html",
        users=db.session.scalars(select(User).order_by(User.role, User.username)).all(),
        institutions=db.session.scalars(select(Institution).order_by(Institution.name)).all())


@bp.get("/audit")
@platform_admin_only
def audit_log():
    """The latest audited actions."""
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)).all()
    return render_template("audit.html", entries=entries)
