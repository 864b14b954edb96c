"""The regulator's objection queue, repair review and lists, and what the firm sees of them."""
from datetime import timedelta

from sqlalchemy import select

from app.common.dates import local_date
from app.entities import ListEntry, Objection, RepairRequest, SourceRecord
from app.extensions import db
from app.services import ingestion, objections

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text
from ..ingest.exports import write_csv


def _objection(world):
    factories.add_records(world["firm"], "tax_filing", [(factories.months_ago(1), {"revenue": 1000.0})])
    record = db.session.scalars(select(SourceRecord)).first()
    objection = objections.object_to_record(db.session, world["firm"], world["users"]["firm"], record.id, "数据有误")
    db.session.commit()
    return objection


def test_the_queue_marks_an_objection_past_its_deadline_and_the_firm_reads_the_answer(app, world):
    objection = _objection(world)
    objection.due_on = local_date() - timedelta(days=1)  # filed 21 days ago
    db.session.commit()
    regulator = logged_in_client(app, world["users"]["regulator"])
    assert "已超期 1 天" in page_text(regulator.get("/regulator/objections"))
    url = f"/regulator/objections/{objection.id}"
    token = csrf_token(regulator.get(url).get_data(as_text=True))
    refused = regulator.post(url, data={"csrf_token": token, "decision": "rejected", "response": ""})
    assert refused.status_code == 200 and "请填写答复理由" in page_text(refused)
    done = regulator.post(url, data={"csrf_token": token, "decision": "rejected", "response": "经核实数据无误"})
    assert done.status_code == 302 and db.session.get(Objection, objection.id).status == "rejected"
    firm_page = page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/score"))
    assert "异议不成立" in firm_page and "经核实数据无误" in firm_page


def test_the_data_admin_answers_data_objections_but_not_reviews(app, world):
    objection = _objection(world)
    review = objections.request_review(db.session, world["firm"], world["users"]["firm"], None, "请复核")
    db.session.commit()
    client = logged_in_client(app, world["users"]["data_admin"])
    assert client.get(f"/regulator/objections/{objection.id}").status_code == 200
    assert client.get(f"/regulator/objections/{review.id}").status_code == 404


def test_the_regulator_lists_and_delists_and_the_firm_sees_its_entry(app, world):
    regulator = logged_in_client(app, world["users"]["regulator"])
    token = csrf_token(regulator.get("/regulator/lists").get_data(as_text=True))
    unknown = regulator.post("/regulator/lists", data={"csrf_token": token, "subject_code": "91610203XXXXXXXXXX",
                                                         "list_kind": "serious_dishonest", "reason": "测试"})
    assert unknown.status_code == 400 and "没有这个代码的信用主体" in page_text(unknown)
    added = regulator.post("/regulator/lists", data={
        "csrf_token": token, "subject_code": world["firm"].uscc, "list_kind": "serious_dishonest",
        "reason": "拒不履行行政处罚决定"})
    assert added.status_code == 302
    entry = db.session.scalars(select(ListEntry)).one()
    firm_page = page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/score"))
    assert "严重失信主体名单" in firm_page and "拒不履行行政处罚决定" in firm_page
    assert "不予办理纯信用贷款" in page_text(regulator.get(f"/regulator/lists/{entry.id}"))
    removed = regulator.post(f"/regulator/lists/{entry.id}", data={"csrf_token": token, "reason": "已履行"})
    assert removed.status_code == 302
    db.session.expire_all()
    assert db.session.get(ListEntry, entry.id).status == "removed"
    assert "已移出" in page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/score"))


def test_the_firm_asks_for_repair_and_the_regulator_sees_it(app, world, tmp_path):
    firm = world["firm"]
    decided = local_date() - timedelta(days=200)
    path = write_csv(tmp_path / "行政处罚_处罚决定_1.csv", "penalty", [
        ["铜印市监罚〔2026〕3号", firm.uscc, "印台区市场监督管理局", decided.isoformat(), "一般", "3000", "", "否"]])
    ingestion.ingest(db.session, [path], "610203")
    db.session.commit()
    client = logged_in_client(app, world["users"]["firm"])
    page = client.get("/firm/score").get_data(as_text=True)
    assert "公示中" in page_text(client.get("/firm/score"))
    record = db.session.scalars(select(SourceRecord).where(SourceRecord.source == "penalty")).one()
    response = client.post("/firm/score/repair", data={"csrf_token": csrf_token(page), "record_id": record.id,
                                                       "description": "罚款已缴清"})
    assert response.status_code == 302
    request = db.session.scalars(select(RepairRequest)).one()
    assert request.status == "open" and "修复申请审核中" in page_text(client.get("/firm/score"))
    regulator = logged_in_client(app, world["users"]["regulator"])
    assert "铜印市监罚〔2026〕3号" in page_text(regulator.get("/regulator/repairs"))
    assert regulator.get(f"/regulator/repairs/{request.id}").status_code == 200
