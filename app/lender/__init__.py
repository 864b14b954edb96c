"""The lender's area: applications to handle and the institution's products."""
from app.lender.routes import bp

__all__ = ["bp"]
