"""The JSON API (/api/v1), for the city/province platform and for scripts."""
from app.api.routes import bp

__all__ = ["bp"]
