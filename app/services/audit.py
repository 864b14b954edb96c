"""Writing the audit log."""
from flask import has_request_context, request

from app.entities import AuditEntry
from app.entities.base import utcnow


def record(session, actor, action, target, target_type=None, **details):
    """Stage an audit entry for `action` by `actor` on the ORM object `target`.

    `target` may be None when the record does not exist (a login with an unknown username): then
    `target_type` names the kind of record meant.
    """
    entry = AuditEntry(
        at=utcnow(),  # when it happened, not when the session happens to flush it
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type or type(target).__name__,
        target_id=getattr(target, "id", None),
        details={k: str(v) for k, v in details.items()},
        ip=request.remote_addr if has_request_context() else None,
    )
    session.add(entry)
    return entry
