"""Login, logout, firm registration and the language switch."""
from app.auth.routes import bp

__all__ = ["bp"]
