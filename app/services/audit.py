"""Writing the audit log, and checking that nobody changed it since."""
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import select

from app.common.chain import GENESIS, entry_hash
from app.entities import AuditChainHead, AuditEntry
from app.entities.audit import HEAD_ID
from app.entities.base import utcnow

# Entries read per round trip by `verify`: the log is streamed, never loaded whole.
VERIFY_BATCH = 1000


def record(session, actor, action, target, target_type=None, target_id=None, **details):
    """Stage an audit entry for `action` by `actor` on the ORM object `target`.

    `target` may be None when the record does not exist (a login with an unknown username) or is not
    loaded: then `target_type` (and `target_id`, if known) name the record meant. The entry is chained
    when the session flushes it.
    """
    entry = AuditEntry(
        at=utcnow(),  # when it happened, not when the session happens to flush it
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type or type(target).__name__,
        target_id=getattr(target, "id", target_id),
        details={k: str(v) for k, v in details.items()},
        ip=request.remote_addr if has_request_context() else None,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class Verification:
    """What `verify` found: whether the chain holds, how many entries it read, the first one that broke."""

    ok: bool
    rows: int
    first_broken: int | None

    def as_dict(self):
        """The result as `flask audit verify` prints it."""
        return {"ok": self.ok, "rows": self.rows, "first_broken": self.first_broken}


def verify(session):
    """Re-hash the whole log in id order and follow its links; the first entry that does not hold breaks it.

    An edited entry fails its own hash; a deleted one breaks the link of the entry after it; a deleted
    tail leaves the chain head naming an entry that is gone (that id is reported).
    """
    columns = (AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.action, AuditEntry.target_type,
               AuditEntry.target_id, AuditEntry.details, AuditEntry.ip, AuditEntry.prev_hash, AuditEntry.row_hash)
    rows, last_id, last_hash = 0, 0, GENESIS
    stream = session.execute(select(*columns).order_by(AuditEntry.id).execution_options(yield_per=VERIFY_BATCH))
    for row in stream:
        rows += 1
        fields = (row.id, row.at, row.actor_id, row.action, row.target_type, row.target_id, row.details, row.ip)
        if row.prev_hash != last_hash or entry_hash(*fields, row.prev_hash) != row.row_hash:
            stream.close()
            return Verification(False, rows, row.id)
        last_id, last_hash = row.id, row.row_hash
    head = session.get(AuditChainHead, HEAD_ID)
    if head is None:
        return Verification(not rows, rows, last_id or None)
    if head.last_id > last_id or (head.last_id == last_id and head.last_hash != last_hash):
        return Verification(False, rows, head.last_id)
    if head.last_id < last_id:  # entries written past the head, not by the platform
        return Verification(False, rows, session.scalar(select(AuditEntry.id).where(AuditEntry.id > head.last_id)
                                                        .order_by(AuditEntry.id).limit(1)))
    return Verification(True, rows, None)
