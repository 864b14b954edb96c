"""Writing the audit log, reading it (filtered, a page at a time, or whole for export), and checking
that nobody changed it since."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask import has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.common.chain import GENESIS, entry_hash
from app.common.dates import utc_start_of
from app.common.errors import InvalidInput
from app.common.ids import is_record_id
from app.common.vocab import AUDIT_ACTIONS
from app.entities import AuditChainHead, AuditEntry, Institution, User
from app.entities.audit import HEAD_ID
from app.entities.base import utcnow

# Entries read per round trip by `verify` and by the export: the log is streamed, never loaded whole.
VERIFY_BATCH = 1000
PAGE_SIZE = 50
EXPORT_HEADER = (_l("编号"), _l("时间（UTC）"), _l("操作人"), _l("所属机构"), _l("操作"), _l("操作代码"),
                 _l("对象"), _l("对象编号"), _l("详情"), _l("IP 地址"), _l("本条哈希"))


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


@dataclass(frozen=True)
class AuditFilters:
    """Who (username, part of it), what (an action code), which tenant (the actor's institution) and when
    (local calendar dates, both included); None: not filtered."""

    username: str | None = None
    action: str | None = None
    institution_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self):
        """The filters as a query string carries them (for paging and export links)."""
        values = {"username": self.username, "action": self.action, "institution": self.institution_id,
                  "from": self.date_from and self.date_from.isoformat(),
                  "to": self.date_to and self.date_to.isoformat()}
        return {key: value for key, value in values.items() if value}


def _date(text, field):
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise InvalidInput(_("日期“%(value)s”格式不对，应为 年-月-日，如 2026-01-31。", value=text[:20]),
                           field) from None


def checked_filters(session, args):
    """The filters of a query string (`username`, `action`, `institution`, `from`, `to`); InvalidInput
    naming the first that is not a known action, an institution or a date, or a range ending before it starts."""
    action = (args.get("action") or "").strip() or None
    if action is not None and action not in AUDIT_ACTIONS:
        raise InvalidInput(_("没有“%(value)s”这种操作，请从列表中选择。", value=action[:40]), "action")
    institution_id = None
    if args.get("institution"):
        institution_id = int(args["institution"]) if str(args["institution"]).isdigit() else None
        if not is_record_id(institution_id) or session.get(Institution, institution_id) is None:
            raise InvalidInput(_("没有这个机构，请从列表中选择。"), "institution")
    date_from, date_to = _date(args.get("from"), "from"), _date(args.get("to"), "to")
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(_("结束日期不能早于开始日期。"), "to")
    username = (args.get("username") or "").strip()[:64] or None
    return AuditFilters(username, action, institution_id, date_from, date_to)


def _filtered(query, filters):
    if filters.username:
        query = query.where(AuditEntry.actor_id.in_(
            select(User.id).where(func.lower(User.username).contains(filters.username.lower(), autoescape=True))))
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.institution_id:
        tenant_staff = select(User.id).where(User.institution_id == filters.institution_id)
        query = query.where(AuditEntry.actor_id.in_(tenant_staff))
    if filters.date_from:
        query = query.where(AuditEntry.at >= utc_start_of(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEntry.at < utc_start_of(filters.date_to + timedelta(days=1)))
    return query


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered log, newest first, and how many entries the filters match."""

    entries: list
    total: int
    page: int
    page_size: int

    @property
    def has_next(self):
        """Whether a later page holds entries."""
        return self.page * self.page_size < self.total


def page_of(session, filters, page=1, page_size=PAGE_SIZE):
    """The entries the filters match on `page` (newest first), with their actors and the actors' institutions."""
    page = max(page, 1)
    total = session.scalar(_filtered(select(func.count(AuditEntry.id)), filters))
    entries = session.scalars(_filtered(select(AuditEntry), filters)
                              .options(joinedload(AuditEntry.actor).joinedload(User.institution))
                              .order_by(AuditEntry.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return AuditPage(entries, total, page, page_size)


def details_text(details):
    """An entry's details as one line: key=value pairs in key order."""
    return " ".join(f"{key}={value}" for key, value in sorted((details or {}).items()))


def export_rows(session, filters):
    """Every entry the filters match, oldest first, as export rows; streamed."""
    query = (_filtered(select(AuditEntry, User.username, Institution.name), filters)
             .outerjoin(User, User.id == AuditEntry.actor_id)
             .outerjoin(Institution, Institution.id == User.institution_id)
             .order_by(AuditEntry.id).execution_options(yield_per=VERIFY_BATCH))
    for entry, username, institution in session.execute(query):
        yield (entry.id, entry.at.isoformat(sep=" ", timespec="seconds"), username or "", institution or "",
               AUDIT_ACTIONS.label(entry.action), entry.action, entry.target_type, entry.target_id,
               details_text(entry.details), entry.ip or "", entry.row_hash)
