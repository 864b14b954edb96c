"""The firm's area (融资主体): needs, matched products, applications, consents."""
from flask import Blueprint

bp = Blueprint("firm", __name__, url_prefix="/firm")

from app.firm import routes  # noqa: E402, F401
