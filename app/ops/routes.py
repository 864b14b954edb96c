"""Routes for probes and the metrics scraper: no login, no session, nothing cached.

/healthz answers while the process serves; /readyz checks what a request needs (503 naming the
failing part); /metrics is for this machine, or for a scraper holding METRICS_TOKEN.
"""
import hmac
import ipaddress

from flask import Blueprint, abort, current_app, jsonify, request

from app import jobs, metrics
from app.extensions import db
from app.services import health

bp = Blueprint("ops", __name__)


@bp.after_request
def never_cached(response):
    """A probe's answer is true only now."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """Liveness: 200 while the process serves requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: the database, Redis (when configured) and the active model; 503 names what fails."""
    failing, checks = health.readiness(db.session, current_app.config)
    status = "unavailable" if failing else "ready"
    return jsonify(status=status, checks=checks, failing=failing), 503 if failing else 200


@bp.get("/metrics")
def metrics_page():
    """Prometheus metrics, for the machine itself or a scraper with METRICS_TOKEN (else 403)."""
    if not (_token_matches() or _from_this_machine()):
        abort(403)
    body, content_type = metrics.exposition(jobs.backend())
    return body, 200, {"Content-Type": content_type}


def _token_matches():
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _from_this_machine():
    """A loopback peer that does not relay another (a proxy on this machine adds X-Forwarded-For)."""
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
