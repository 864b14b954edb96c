"""The regulator's area (政府在线监管): the whole market, read-only."""
from app.regulator.routes import bp

__all__ = ["bp"]
