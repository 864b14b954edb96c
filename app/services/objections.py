"""A firm's requests about its score: a human review (PIPL art. 24) or an objection to a data item (异议).

Here the request is recorded with its answer-by date; answering it is the regulator's flow.
"""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import InvalidInput
from app.entities import Objection, SourceRecord
from app.entities.base import utcnow

from . import audit

MAX_TEXT = 1000


def _description(text):
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(_("请说明理由（不超过 %(n)d 字）。", n=MAX_TEXT), "description")
    return text


def _due_on():
    """Today plus the answer period (征信业管理条例: an objection is answered within 20 days)."""
    return utcnow().date() + timedelta(days=current_app.config["OBJECTION_ANSWER_DAYS"])


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
