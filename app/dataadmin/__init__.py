"""The data admin's area: department data batches and their health."""
from app.dataadmin.routes import bp

__all__ = ["bp"]
