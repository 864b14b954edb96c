"""The firm's area (融资主体): needs, matched products, applications, consents."""
from app.firm.routes import bp

__all__ = ["bp"]
