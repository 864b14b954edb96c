"""The lender's area: applications to handle and the institution's products."""
from flask import Blueprint

bp = Blueprint("lender", __name__, url_prefix="/lender")

from app.lender import routes  # noqa: E402, F401
