"""Answering objections (异议): the queue with its 20-day deadline, disputed items, corrections that
supersede the record through the ingestion path and re-score the firm."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.common import clock
from app.common.errors import InvalidInput, NotAllowed
from app.credit.scoring import latest_score
from app.entities import AuditEntry, SourceBatch, SourceRecord
from app.entities.base import utcnow
from app.extensions import db
from app.services import objections, scores

from .. import factories


def _record(subject, source="tax_filing", payload=None):
    factories.add_records(subject, source, [(factories.months_ago(1), payload or {"revenue": 1000.0, "arrears": 0.0})])
    return db.session.scalars(select(SourceRecord).where(SourceRecord.subject_id == subject.id)
                              .order_by(SourceRecord.id.desc())).first()


def test_an_objection_past_20_days_shows_overdue(world):
    users = world["users"]
    record = _record(world["firm"])
    objection = objections.object_to_record(db.session, world["firm"], users["firm"], record.id, "欠税数据有误")
    review = objections.request_review(db.session, world["firm"], users["firm"], None, "请人工复核")
    db.session.commit()
    [entry, _review] = objections.queue(db.session, users["regulator"])
    assert entry.objection == objection and entry.days_left == 20 and not entry.overdue
    with clock.frozen(utcnow() + timedelta(days=21)):
        late = objections.queue(db.session, users["regulator"])
    assert [(e.objection, e.days_left, e.overdue) for e in late] == [(objection, -1, True), (review, -1, True)]
    # The data admin answers objections to data items, not review requests.
    assert [e.objection for e in objections.queue(db.session, users["data_admin"])] == [objection]


def test_an_open_objection_marks_the_record_disputed_until_answered(world):
    users = world["users"]
    record = _record(world["firm"])
    assert not scores.source_table(db.session, world["firm"].id, "tax_filing")["rows"][0]["disputed"]
    objection = objections.object_to_record(db.session, world["firm"], users["firm"], record.id, "欠税数据有误")
    assert scores.source_table(db.session, world["firm"].id, "tax_filing")["rows"][0]["disputed"]
    objections.decide(db.session, objection, users["data_admin"], "rejected", "经核查，数据与税务部门一致")
    assert objection.status == "rejected" and objection.resolved_by_id == users["data_admin"].id
    assert not scores.source_table(db.session, world["firm"].id, "tax_filing")["rows"][0]["disputed"]
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "objection.rejected")).one()
    assert audit.target_id == objection.id


def test_an_answer_needs_a_reason_a_decision_and_the_right_handler(world):
    users = world["users"]
    review = objections.request_review(db.session, world["firm"], users["firm"], None, "请人工复核")
    objection = objections.object_to_record(db.session, world["firm"], users["firm"], _record(world["firm"]).id, "错")
    with pytest.raises(NotAllowed):
        objections.decide(db.session, review, users["data_admin"], None, "答复")
    with pytest.raises(InvalidInput):
        objections.decide(db.session, objection, users["regulator"], "upheld", "  ")
    with pytest.raises(InvalidInput):
        objections.decide(db.session, objection, users["regulator"], "maybe", "答复")
    objections.decide(db.session, review, users["regulator"], None, "已人工复核，评分维持")
    assert review.status == "resolved"
    with pytest.raises(NotAllowed):
        objections.decide(db.session, review, users["regulator"], None, "再答复一次")


def _latest_tax_record(subject_id):
    return db.session.scalars(select(SourceRecord).where(
        SourceRecord.subject_id == subject_id, SourceRecord.source == "tax_filing",
        SourceRecord.superseded_by_id.is_(None)).order_by(SourceRecord.period.desc())).first()


def test_an_upheld_correction_supersedes_the_record_and_rescores(scored_world):
    users, subject_id = scored_world["users"], scored_world["subject_id"]
    firm = users["firm"].subject
    before = latest_score(db.session, subject_id)
    record = _latest_tax_record(subject_id)
    objection = objections.object_to_record(db.session, firm, users["firm"], record.id, "我们按期申报，未欠税")
    db.session.commit()
    changes = {c.name: c.text for c in objections.correction_columns(objection)}
    changes.update(arrears="250000", on_time="否")
    after = objections.decide(db.session, objection, users["regulator"], "upheld", "经核实，税务部门已确认", changes)
    db.session.commit()
    db.session.expire_all()
    old = db.session.get(SourceRecord, record.id)
    new = db.session.get(SourceRecord, objection.correction_record_id)
    assert old.superseded_by_id == new.id and new.superseded_by_id is None
    assert new.natural_key == old.natural_key and new.payload["arrears"] == 250000.0 and new.payload["on_time"] is False
    assert db.session.get(SourceBatch, new.batch_id).file_name == f"objection #{objection.id}"
    assert after.id != before.id and after.score < before.score
    assert latest_score(db.session, subject_id).id == after.id


def test_a_correction_the_checks_refuse_changes_nothing(world):
    users = world["users"]
    record = _record(world["firm"], payload={"period": factories.months_ago(1).isoformat(), "revenue": 1000.0,
                                             "vat": 0.0, "income_tax": 0.0, "on_time": True, "arrears": 0.0})
    objection = objections.object_to_record(db.session, world["firm"], users["firm"], record.id, "欠税数据有误")
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        objections.decide(db.session, objection, users["regulator"], "upheld", "更正", {"arrears": "一百"})
    assert "欠税金额" in refused.value.message
    db.session.rollback()
    assert db.session.get(SourceRecord, record.id).superseded_by_id is None and objection.status == "open"
