"""The JSON API (/api/v1), for the city/province platform and for scripts."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import routes  # noqa: E402, F401
