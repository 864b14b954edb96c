"""A firm's requests about its score: a human review (PIPL art. 24) or an objection to a data item (异议).

The firm files; the regulator (any request) or the data admin (objections to data items) answers
from a queue, within OBJECTION_ANSWER_DAYS (征信业管理条例: 20 days). While an objection to a record is
open the record is disputed (有异议) wherever it is shown. An upheld objection may carry a correction:
it enters through the ingestion path as a batch of its own ("objection #N") that supersedes the old
record, and the firm is re-scored and re-matched at once.
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.dates import local_date
from app.common.errors import InvalidInput, NotAllowed, in_user_language
from app.common.region import town_codes
from app.common.vocab import OBJECTION_DECISIONS
from app.entities import CreditSubject, Objection, SourceRecord
from app.entities.base import utcnow
from app.entities.users import DATA_ADMIN, REGULATOR
from app.ingest.corrections import CorrectionRefused, correct_record, editable_columns

from . import audit, notifications, rescoring

MAX_TEXT = 1000


def _description(text):
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(_("请说明理由（不超过 %(n)d 字）。", n=MAX_TEXT), "description")
    return text


def _due_on():
    """Today plus the answer period (征信业管理条例: an objection is answered within 20 days)."""
    return local_date() + timedelta(days=current_app.config["OBJECTION_ANSWER_DAYS"])


def request_review(session, subject, user, score, description):
    """Stage a request that a person, not only the model, reviews the firm's score."""
    objection = Objection(subject_id=subject.id, filed_by_id=user.id, credit_score_id=score.id if score else None,
                          kind="review", description=_description(description), status="open", due_on=_due_on())
    session.add(objection)
    session.flush()
    audit.record(session, user, "objection.review", objection, score=score.score if score else "")
    return objection


def object_to_record(session, subject, user, record_id, description):
    """Stage an objection to one of the firm's own department records; others' records are refused."""
    record = session.get(SourceRecord, record_id) if record_id else None
    if record is None or record.subject_id != subject.id or record.superseded_by_id is not None:
        raise InvalidInput(_("请选择本企业的一条数据。"), "record_id")
    objection = Objection(subject_id=subject.id, filed_by_id=user.id, source_record_id=record.id, kind="data",
                          description=_description(description), status="open", due_on=_due_on())
    session.add(objection)
    session.flush()
    audit.record(session, user, "objection.data", objection, source=record.source, record=record.id)
    return objection


def objections_of(session, subject_id):
    """The subject's review requests and objections, newest first."""
    return session.scalars(select(Objection).where(Objection.subject_id == subject_id)
                           .order_by(Objection.id.desc())).all()


def may_handle(user, objection):
    """The regulator answers every request; the data admin, objections to department data items."""
    return user.role == REGULATOR or (user.role == DATA_ADMIN and objection.kind == "data")


@dataclass
class QueueEntry:
    """An open request in the handler's queue: days left to its answer-by date (negative: overdue)."""

    objection: Objection
    days_left: int

    @property
    def overdue(self):
        return self.days_left < 0


def queue(session, user, today=None):
    """The open requests `user` handles, the most urgent first, with days left to answer."""
    today = today or local_date()
    query = select(Objection).where(Objection.status == "open").order_by(Objection.due_on, Objection.id)
    if user.role == DATA_ADMIN:
        query = query.where(Objection.kind == "data")
    return [QueueEntry(o, (o.due_on - today).days) for o in session.scalars(query)]


def answered(session, user, limit=50):
    """The latest answered requests `user` could have handled, newest first."""
    query = select(Objection).where(Objection.status != "open").order_by(Objection.resolved_at.desc()).limit(limit)
    if user.role == DATA_ADMIN:
        query = query.where(Objection.kind == "data")
    return session.scalars(query).all()


def disputed_records(session, record_ids):
    """Of `record_ids`, those under an open objection."""
    if not record_ids:
        return set()
    return set(session.scalars(select(Objection.source_record_id).where(
        Objection.status == "open", Objection.source_record_id.in_(list(record_ids)))))


def correction_columns(objection):
    """The columns of the disputed record a handler may correct (none when it is no longer current)."""
    record = objection.record
    if record is None or record.superseded_by_id is not None:
        return []
    return editable_columns(record)


def decide(session, objection, user, decision, response, changes=None):
    """Stage the answer to an open request: a review is answered; an objection to a data item is upheld
    (with `changes`, {column: cell text}, correcting the record) or rejected, with the reason given.

    NotAllowed when already answered or not `user`'s to answer; InvalidInput for a bad answer or a
    correction the source's checks refuse. Returns the firm's score after any re-scoring."""
    if not may_handle(user, objection):
        raise NotAllowed(_("您无权处理这项申请。"))
    if objection.status != "open":
        raise NotAllowed(_("这项申请已经答复。"))
    response = _answer(response)
    if objection.kind == "review":
        decision = "resolved"
    elif decision not in OBJECTION_DECISIONS:
        raise InvalidInput(_("请选择异议是否成立。"), "decision")
    objection.status, objection.response = decision, response
    objection.resolved_at, objection.resolved_by_id = utcnow(), user.id
    changed = _changed(objection, changes or {}) if decision == "upheld" else {}
    if changed:
        objection.correction_record_id = _correct(session, objection, changed)
    audit.record(session, user, f"objection.{decision}", objection, subject=objection.subject_id,
                 record=objection.source_record_id or "", correction=objection.correction_record_id or "",
                 overdue=objection.due_on < local_date())
    notifications.notify(session, session.get(CreditSubject, objection.subject_id), "objection_answered",
                         link="/firm/score", objection=objection.id)
    if objection.correction_record_id is None:
        session.flush()
        return None
    return rescoring.refresh_subject(session, objection.subject_id)


def _answer(text):
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(_("请填写答复理由（不超过 %(n)d 字）。", n=MAX_TEXT), "response")
    return text


def _changed(objection, changes):
    """The cells the handler changed, of the columns that may be corrected."""
    columns = {c.name: c for c in correction_columns(objection)}
    if changes and not columns:
        raise InvalidInput(_("这条数据已被替换或不能在平台上更正，请由数据来源部门报送更正文件。"), "changes")
    return {name: text.strip() for name, text in changes.items()
            if name in columns and (text or "").strip() != columns[name].text}


def _correct(session, objection, changed):
    record = objection.record
    try:
        return correct_record(session, record, changed, f"objection #{objection.id}", objection.subject.identifier,
                              town_codes(current_app.config["REGION_CODE"]))
    except CorrectionRefused as refused:
        raise InvalidInput(in_user_language(refused.message, refused.message_en), refused.field) from None
