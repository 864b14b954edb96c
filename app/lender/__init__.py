"""The lender's area: applications to handle and the institution's products."""
from app.lender import tokens  # noqa: F401  (the API token pages, on bp)
from app.lender.routes import bp

__all__ = ["bp"]
