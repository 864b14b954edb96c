"""银企线上沟通问答: threads between firms and lenders, their attachments, and the public FAQ."""
from app.messages.routes import bp

__all__ = ["bp"]
