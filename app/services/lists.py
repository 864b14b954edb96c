"""Red and black lists (守信激励 / 失信惩戒): entries, exits, and the measures they carry into matching.

Each list the platform keeps is configured (LIST_KINDS) with its legal basis, exit condition and
measures (国办发〔2020〕49号, 过惩相当): an entry changes matching only as its list's measures say
(a black list restricts pure credit loans, not every product; a red list gives priority). Entries
come from the regulator, or from 司法涉诉 records flagged 失信被执行人 (`sync_court_entries`, after
each ingestion), which also leave the list when the court no longer flags the case. Every addition
and exit is audited, and the subject is re-scored and re-matched at once.
"""
from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.common.dates import local_date
from app.common.errors import InvalidInput, NotAllowed
from app.entities import CreditSubject, ListEntry, SourceRecord
from app.entities.base import utcnow

from . import audit, notifications, rescoring
from .list_kinds import list_kinds

MAX_TEXT = 1000
COURT_LIST = "court_dishonest"
PAGE_SIZE = 50


def entries_of(session, subject_id):
    """The subject's entries, in force first, newest first."""
    return session.scalars(select(ListEntry).where(ListEntry.subject_id == subject_id)
                           .order_by(ListEntry.status, ListEntry.listed_on.desc(), ListEntry.id.desc())).all()


def entries(session, status="active", list_kind=None, page=1):
    """(entries of the given status and list, one page newest first, whether more follow)."""
    query = select(ListEntry).order_by(ListEntry.listed_on.desc(), ListEntry.id.desc())
    if status:
        query = query.where(ListEntry.status == status)
    if list_kind:
        query = query.where(ListEntry.list_kind == list_kind)
    rows = session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def subject_by_code(session, code):
    """The subject of a 统一社会信用代码 or household code; InvalidInput when none is registered."""
    code = (code or "").strip().upper()
    subject = session.scalar(select(CreditSubject).where(
        or_(CreditSubject.uscc == code, CreditSubject.household_id == code))) if code else None
    if subject is None:
        raise InvalidInput(_("没有这个代码的信用主体。"), "subject_code")
    return subject


def _text(text, field, message):
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(message, field)
    return text


def add_entry(session, user, subject, list_kind, reason, listed_on=None, ends_on=None, record=None, refresh=True):
    """Stage an entry of `subject` on the configured list `list_kind` (by `user`, or found in `record`),
    re-scoring and re-matching it unless `refresh` is off (the caller does it for many at once);
    InvalidInput for an unknown list, bad dates or a duplicate."""
    kinds = list_kinds()
    if list_kind not in kinds:
        raise InvalidInput(_("请选择名单。"), "list_kind")
    kind = kinds[list_kind]
    listed_on = listed_on or local_date()
    if ends_on is not None and ends_on <= listed_on:
        raise InvalidInput(_("名单期限须晚于列入日期。"), "ends_on")
    duplicate = session.scalar(select(ListEntry.id).where(
        ListEntry.subject_id == subject.id, ListEntry.list_kind == list_kind, ListEntry.status == "active"))
    if duplicate is not None and record is None:
        raise InvalidInput(_("该主体已在这个名单中。"), "subject_code")
    entry = ListEntry(subject_id=subject.id, list_kind=list_kind, list_type=kind["type"], list_name=kind["name"],
                      source="court_case" if record is not None else "regulator",
                      source_record_id=record.id if record is not None else None, basis=kind["basis"],
                      reason=_text(reason, "reason", _("请填写列入事由（不超过 %(n)d 字）。", n=MAX_TEXT)),
                      exit_conditions=kind["exit"], listed_on=listed_on, ends_on=ends_on, status="active",
                      notified_at=utcnow(), created_by_id=user.id if user is not None else None)
    session.add(entry)
    session.flush()
    audit.record(session, user, "list.add", entry, subject=subject.id, list=list_kind, source=entry.source,
                 measures=",".join(sorted(kind["measures"])))
    notifications.notify(session, subject, "listed", link="/firm/score", list=entry.list_name,
                         list_kind=entry.list_kind, list_type=entry.list_type)
    if refresh:
        rescoring.refresh_subject(session, subject.id)
    return entry


def remove_entry(session, user, entry, reason, removed_on=None, refresh=True):
    """Stage the exit of an entry in force (on `removed_on`, today by default), with its reason; the
    subject is re-scored and re-matched unless `refresh` is off."""
    if entry.status != "active":
        raise NotAllowed(_("该名单记录已移出。"))
    removed_on = removed_on or local_date()
    if removed_on < entry.listed_on:
        raise InvalidInput(_("移出日期不能早于列入日期。"), "removed_on")
    entry.status, entry.removed_on = "removed", removed_on
    entry.removed_reason = _text(reason, "reason", _("请填写移出理由（不超过 %(n)d 字）。", n=MAX_TEXT))
    entry.removed_by_id = user.id if user is not None else None
    audit.record(session, user, "list.remove", entry, subject=entry.subject_id, list=entry.list_kind,
                 removed_on=removed_on.isoformat())
    notifications.notify(session, session.get(CreditSubject, entry.subject_id), "delisted", link="/firm/score",
                         list=entry.list_name, list_kind=entry.list_kind)
    if refresh:
        rescoring.refresh_subject(session, entry.subject_id)
    return entry


def close_expired(session, today=None):
    """Close every entry still marked in force whose term ended (`ends_on` on or before `today`, Beijing's date by
    default): it leaves the list on its last day, with the reason, audited and notified like any exit (matching
    already ignores an entry past its term), and the subject is re-scored and re-matched. Run daily; a second run
    closes nothing. Returns the subject ids whose entries were closed."""
    today = today or local_date()
    ended = session.scalars(select(ListEntry).where(ListEntry.status == "active", ListEntry.ends_on.is_not(None),
                                                     ListEntry.ends_on <= today)
                            .order_by(ListEntry.id)).all()
    for entry in ended:
        remove_entry(session, None, entry, _("名单期限届满"), removed_on=entry.ends_on, refresh=False)
    subject_ids = sorted({entry.subject_id for entry in ended})
    for subject_id in subject_ids:
        rescoring.refresh_subject(session, subject_id)
    return subject_ids


def _flagged_cases(session, subject_ids=None):
    """Current 司法涉诉 records flagged 失信被执行人 on a case not closed: natural key → record."""
    query = select(SourceRecord).where(SourceRecord.source == "court_case", SourceRecord.superseded_by_id.is_(None))
    if subject_ids is not None:
        query = query.where(SourceRecord.subject_id.in_(list(subject_ids)))
    return {r.natural_key: r for r in session.scalars(query)
            if r.payload.get("dishonest") and r.payload.get("status") != "closed"}


def sync_court_entries(session, subject_ids=None, user=None):
    """Bring the 失信被执行人 list in line with the current court records (of `subject_ids`, or all):
    a flagged case without an entry is listed, an entry whose case is no longer flagged leaves. The
    caller re-scores and re-matches the subjects returned (the ids whose entries changed)."""
    flagged = _flagged_cases(session, subject_ids)
    query = select(ListEntry).where(ListEntry.list_kind == COURT_LIST, ListEntry.status == "active")
    if subject_ids is not None:
        query = query.where(ListEntry.subject_id.in_(list(subject_ids)))
    listed = {}
    for entry in session.scalars(query):
        record = session.get(SourceRecord, entry.source_record_id) if entry.source_record_id else None
        listed[record.natural_key if record is not None else None] = entry
    changed = set()
    for key, entry in listed.items():
        if key not in flagged:
            remove_entry(session, user, entry, _("法院已不再将该案列为失信被执行人"), refresh=False)
            changed.add(entry.subject_id)
        else:
            entry.source_record_id = flagged[key].id  # the case's current record, after a correction
    for key, record in flagged.items():
        if key not in listed:
            case = record.payload
            add_entry(session, user, session.get(CreditSubject, record.subject_id), COURT_LIST,
                      _("案件 %(case)s（%(cause)s）被人民法院列为失信被执行人", case=case.get("case_no", ""),
                        cause=case.get("cause", "")), record=record, refresh=False)
            changed.add(record.subject_id)
    return sorted(changed)
