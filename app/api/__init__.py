"""The JSON API (/api/v1): the first session-read endpoints, and the token API for lenders' systems and the
province's (docs/api.md) with its OpenAPI document."""
from app.api import docs, v1  # noqa: F401  (register their routes on bp)
from app.api.endpoint import ENDPOINTS, RequestIdFilter, stamp, start
from app.api.routes import bp

bp.before_app_request(start)
bp.after_app_request(stamp)
bp.record_once(lambda state: state.app.logger.addFilter(RequestIdFilter()))


def token_endpoints():
    """The endpoint names of the token API."""
    return [f"{bp.name}.{spec.view.__name__}" for spec in ENDPOINTS]


__all__ = ["bp", "token_endpoints"]
