"""The regulator's area (政府在线监管): the whole market, read-only."""
from flask import Blueprint

bp = Blueprint("regulator", __name__, url_prefix="/regulator")

from app.regulator import routes  # noqa: E402, F401
