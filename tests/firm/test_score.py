"""The firm's own score page: reasons in plain words, sources, history, how to improve, review and objection."""
from datetime import timedelta

from sqlalchemy import delete, select

from app.common.dates import local_date
from app.entities import AuditEntry, CreditScore, Objection, SourceRecord
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
    assert improvement.suggestions
    for suggestion in improvement.suggestions:
        for text in scores.describe(suggestion):
            assert text in page
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
    assert all(o.due_on == local_date() + timedelta(days=20) for o in requests)
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


def test_a_firm_without_a_score_is_not_given_one_by_the_improvement_box(app, scored_world):
    """With a model active, a firm the run has not scored yet is told it has no score, and nowhere a figure."""
    world = scored_world
    firm = world["users"]["firm_other"]
    db.session.execute(delete(CreditScore).where(CreditScore.subject_id == firm.subject_id))  # as if not yet scored
    db.session.commit()
    page = page_text(logged_in_client(app, firm).get("/firm/score"))
    assert "您还没有信用评分" in page
    assert "您现在是" not in page and "分、" not in page and "<svg" not in page
    assert "有了信用评分后" in page


def test_the_firms_page_speaks_plain_words_and_the_lenders_keeps_the_technical_view(app, scored_world):
    world = scored_world
    page = page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/score"))
    for word in ("基准值", "变异系数", "对数几率", "log-odds", "SHAP"):
        assert word not in page
    assert "红色条是让风险变高的因素" in page
    lender = page_text(logged_in_client(app, world["users"]["officer"]).get(
        f"/lender/applications/{world['application'].id}/score"))
    assert "对数几率" in lender and "基准值" in lender


def test_a_stored_reason_of_an_older_wording_is_shown_in_todays_words(app, scored_world):
    world = scored_world
    score = world["score"]
    score.reasons = [{"feature": "tax_revenue_cv", "value": 0.85, "contribution": 0.3,
                      "zh": "月度营业收入波动较大（变异系数 0.85）", "en": "coefficient of variation 0.85"},
                     {"feature": "util_late_per_month_36m", "value": 13 / 36, "months": 36.0, "contribution": 0.2,
                      "zh": "近3年水电气平均每月逾期缴费 0.36 笔", "en": "0.36 late utility bills a month"}]
    db.session.commit()
    page = page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/score"))
    assert "变异系数" not in page and "0.36" not in page
    assert "幅度约为月平均收入的 85%" in page and "近3年有 13 笔水电气账单逾期缴费" in page


def test_with_no_reason_the_page_says_whether_the_other_factors_raised_the_risk(app, scored_world):
    """The demo farmer (grade C) read "没有明显推高风险的因素" beside a long red bar of the other factors: what
    raised the risk was its kind, town and the like, which are never reasons; the page now says so."""
    world = scored_world
    score = world["score"]
    score.reasons = []
    score.contributions = {"base": -3.0, "other": 0.6, "peer": ["farmer", None],
                           "items": [["util_late_12m", -0.2, 0.0]]}
    db.session.commit()
    client = logged_in_client(app, world["users"]["firm"])
    page = page_text(client.get("/firm/score"))
    assert "推高风险的是其他因素（地区、行业、规模、主体类型、申请条件等）" in page
    assert "没有明显推高风险的因素" not in page
    score.contributions = {**score.contributions, "other": -0.6}
    db.session.commit()
    page = page_text(client.get("/firm/score"))
    assert "没有明显推高风险的因素" in page and "推高风险的是其他因素" not in page
