"""Credit repair (信用修复) of administrative penalties, under the rules in force from 2026-04-01.

A penalty is published for the period of its severity (app/credit/penalties.py); after the shortest
period of its severity (轻微: at once, once the obligation it imposed is fulfilled) the firm may ask
for repair, and the regulator decides. An approved repair enters as a correction of the penalty
record marked repaired ("repair #N", through the ingestion path), so from that day the penalty is no
longer published, shared, used in scores or matching, or shown; the firm is re-scored and re-matched.
An expired penalty needs no repair: it stops being used on the day after its publicity ends.
"""
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.common.errors import InvalidInput, NotAllowed, in_user_language
from app.common.region import town_codes
from app.common.vocab import REPAIR_DECISIONS
from app.entities import CreditSubject, RepairRequest, SourceRecord
from app.entities.base import utcnow
from app.ingest.corrections import CorrectionRefused, correct_record

from . import audit, notifications, rescoring
from .publicity import publicity_rules

MAX_TEXT = 1000


@dataclass
class PenaltyStanding:
    """One of the firm's penalties: its record, where it stands, and whether repair may be asked now."""

    record: SourceRecord
    state: str
    publicity_end: date | None
    repairable_from: date | None
    open_request: RepairRequest | None

    @property
    def may_request(self):
        return (self.state == "published" and self.open_request is None
                and self.repairable_from is not None and self.repairable_from <= publicity_rules().today)


def penalties_of(session, subject_id):
    """The firm's current penalty records with their standing today, newest first."""
    rules = publicity_rules()
    records = session.scalars(select(SourceRecord).where(
        SourceRecord.subject_id == subject_id, SourceRecord.source == "penalty",
        SourceRecord.superseded_by_id.is_(None)).order_by(SourceRecord.period.desc(), SourceRecord.id.desc())).all()
    pending = {r.source_record_id: r for r in session.scalars(select(RepairRequest).where(
        RepairRequest.subject_id == subject_id, RepairRequest.status == "open"))}
    return [PenaltyStanding(r, rules.state(r.payload), rules.end(r.payload), rules.repairable_from(r.payload),
                            pending.get(r.id)) for r in records]


def _text(text, field):
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(_("请填写说明（不超过 %(n)d 字）。", n=MAX_TEXT), field)
    return text


def request_repair(session, subject, user, record_id, description):
    """Stage the firm's repair request on one of its penalties in publicity; InvalidInput saying why
    one cannot be asked (not its penalty, not published, before the shortest period, already asked)."""
    standing = next((p for p in penalties_of(session, subject.id) if p.record.id == record_id), None)
    if standing is None:
        raise InvalidInput(_("请选择本企业的一条行政处罚。"), "record_id")
    if standing.state != "published":
        raise InvalidInput(_("这条行政处罚已不再公示和使用，无需修复。"), "record_id")
    if standing.open_request is not None:
        raise InvalidInput(_("这条行政处罚已有正在审核的修复申请。"), "record_id")
    if not standing.may_request:
        raise InvalidInput(_("最短公示期满后方可申请信用修复：%(day)s 起。",
                             day=standing.repairable_from.isoformat()), "record_id")
    request = RepairRequest(subject_id=subject.id, source_record_id=record_id, filed_by_id=user.id,
                            description=_text(description, "description"), status="open")
    session.add(request)
    session.flush()
    audit.record(session, user, "repair.request", request, record=record_id,
                 severity=standing.record.payload.get("severity"))
    return request


def queue(session):
    """Open repair requests, oldest first."""
    return session.scalars(select(RepairRequest).where(RepairRequest.status == "open")
                           .order_by(RepairRequest.created_at, RepairRequest.id)).all()


def decided(session, limit=50):
    """The latest decided repair requests, newest first."""
    return session.scalars(select(RepairRequest).where(RepairRequest.status != "open")
                           .order_by(RepairRequest.decided_at.desc()).limit(limit)).all()


def requests_of(session, subject_id):
    """The firm's repair requests, newest first."""
    return session.scalars(select(RepairRequest).where(RepairRequest.subject_id == subject_id)
                           .order_by(RepairRequest.id.desc())).all()


def decide(session, request, user, decision, note):
    """Stage the regulator's decision on an open request; an approval marks the penalty repaired from
    today (a correction of its record) and re-scores the firm. Returns its score after re-scoring."""
    if request.status != "open":
        raise NotAllowed(_("这项修复申请已经处理。"))
    if decision not in REPAIR_DECISIONS:
        raise InvalidInput(_("请选择是否同意修复。"), "decision")
    request.status, request.decision_note = decision, _text(note, "note")
    request.decided_at, request.decided_by_id = utcnow(), user.id
    if decision == "approved":
        request.correction_record_id = _mark_repaired(session, request)
    audit.record(session, user, f"repair.{decision}", request, subject=request.subject_id,
                 record=request.source_record_id, correction=request.correction_record_id or "")
    notifications.notify(session, session.get(CreditSubject, request.subject_id), "repair_decided",
                         link="/firm/score", request=request.id, outcome=decision)
    if decision != "approved":
        session.flush()
        return None
    return rescoring.refresh_subject(session, request.subject_id)


def _mark_repaired(session, request):
    record = request.record
    if record is None or record.superseded_by_id is not None:
        raise NotAllowed(_("这条行政处罚已被部门更正，请企业就更正后的记录重新申请。"))
    try:
        return correct_record(session, record, {"repaired": "是"}, f"repair #{request.id}",
                              request.subject.identifier, town_codes(current_app.config["REGION_CODE"]))
    except CorrectionRefused as refused:
        raise NotAllowed(in_user_language(refused.message, refused.message_en)) from None
