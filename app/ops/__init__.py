"""What the machines ask: liveness, readiness and metrics (/healthz, /readyz, /metrics); no login."""
from app.ops.routes import bp

__all__ = ["bp"]
