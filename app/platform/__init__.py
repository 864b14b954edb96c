"""The platform admin's area: users, institutions and the audit log."""
from flask import Blueprint

bp = Blueprint("platform", __name__, url_prefix="/platform")

from app.platform import routes  # noqa: E402, F401
