"""Notifications in the site: the bell's count, the list, marking read, and where copies go."""
from app.notifications.routes import bp

__all__ = ["bp"]
