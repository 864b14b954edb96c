"""The data admin's area: department data batches and their health."""
from flask import Blueprint

bp = Blueprint("dataadmin", __name__, url_prefix="/data")

from app.dataadmin import routes  # noqa: E402, F401
