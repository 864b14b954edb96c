"""The platform admin's area: users, institutions and the audit log."""
from app.platform.routes import bp

__all__ = ["bp"]
