"""The firm's own score page: reasons in plain words, sources, history, how to improve, review and objection."""
from datetime import timedelta

from sqlalchemy import select

from app.entities import AuditEntry, CreditScore, Objection, SourceRecord
from app.entities.base import utcnow
from app.extensions import db
from app.services import scores

from ..conftest import csrf_token, logged_in_client, page_text


def test_the_firm_sees_its_score_reasons_sources_history_and_what_would_improve_it(app, scored_world):
    world = scored_world
    client = logged_in_client(app, world["users"]["firm"])
    page = page_text(client.get("/firm/score"))
    score = world["score"]
    assert f'<span class="n">{score.score}</span>' in page and "<svg" in page
    for reason in score.reasons:
        assert reason["zh"] in page
    assert "月度纳税申报" in page or "水电气月度账单" in page  # sources used, with their latest dates
    assert "评分历史" in page and str(score.data_as_of) in page
    assert "怎样提高我的信用等级" in page
    improvement = scores.improvement(db.session, world["registry"], "610203", world["subject_id"], score)
    for suggestion in improvement.suggestions:
        for change in suggestion.changes:
            assert scores.describe_change(change) in page
    assert "不会建议改变成立年限、所在乡镇或行业" in page


def test_a_review_request_and_a_data_objection_are_recorded_audited_and_listed(app, scored_world):
    world = scored_world
    client = logged_in_client(app, world["users"]["firm"])
    token = csrf_token(page_text(client.get("/firm/score")))
    client.post("/firm/score/review", data={"csrf_token": token, "description": "评分没有反映今年新签的合同"})
    record = db.session.scalars(select(SourceRecord).where(SourceRecord.subject_id == world["subject_id"])).first()
    response = client.post("/firm/score/objection", data={
        "csrf_token": token, "record_id": record.id, "description": "该月营业收入填报有误"}, follow_redirects=True)
    page = page_text(response)
    requests = db.session.scalars(select(Objection).order_by(Objection.id)).all()
    assert [(o.kind, o.subject_id, o.status) for o in requests] == [
        ("review", world["subject_id"], "open"), ("data", world["subject_id"], "open")]
    latest = db.session.scalars(select(CreditScore.id).where(CreditScore.subject_id == world["subject_id"])).first()
    assert requests[0].credit_score_id == latest and requests[1].source_record_id == record.id
    assert all(o.due_on == utcnow().date() + timedelta(days=20) for o in requests)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == world["users"]["firm"].id))
    assert {"objection.review", "objection.data"} <= set(actions)
    assert "人工复核" in page and "数据异议" in page and "该月营业收入填报有误" in page


def test_a_firm_cannot_object_to_another_firms_record(app, scored_world):
    world = scored_world
    other = db.session.scalars(select(SourceRecord).where(SourceRecord.subject_id != world["subject_id"])).first()
    client = logged_in_client(app, world["users"]["firm"])
    token = csrf_token(page_text(client.get("/firm/score")))
    page = page_text(client.post("/firm/score/objection", data={
        "csrf_token": token, "record_id": other.id, "description": "不是我的数据"}, follow_redirects=True))
    assert "请选择本企业的一条数据" in page
    assert db.session.scalar(select(Objection.id)) is None


def test_a_firm_without_a_score_is_told_so(app, world):
    page = page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/score"))
    assert "您还没有信用评分" in page and "平台尚未启用模型" in page
