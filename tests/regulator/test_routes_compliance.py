"""The regulator's compliance page (flags by rule / institution / acknowledgement, acknowledged with a note)
and the lender scoreboard (page and CSV); lenders and firms see neither."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.entities import AuditEntry, ComplianceFlag
from app.entities.base import utcnow
from app.extensions import db
from app.services import compliance_checks

from ..conftest import csrf_token, logged_in_client, page_text
from ..services.test_response_clock import application_of


@pytest.fixture
def flagged(world):
    """Bank A: a decline without reasons; bank B: an overdue application; both flagged by a run."""
    declined = application_of(world, status="declined", decided=utcnow())
    late = application_of(world, institution=world["bank_b"], submitted=utcnow() - timedelta(days=30))
    compliance_checks.run(db.session)
    db.session.commit()
    return declined, late


def test_the_page_lists_open_flags_and_filters_them(app, world, flagged):
    client = logged_in_client(app, world["users"]["regulator"])
    page = page_text(client.get("/regulator/compliance"))
    assert "合规标记（2）" in page and "拒绝时未给出任何具体原因" in page and "已超时" in page
    assert "一年期 LPR 3%" in page and "全国银行间同业拆借中心" in page
    only_b = page_text(client.get(f"/regulator/compliance?institution={world['bank_b'].id}"))
    assert "合规标记（1）" in only_b and "拒绝时未给出任何具体原因" not in only_b
    only_rule = page_text(client.get("/regulator/compliance?rule=decline_reasons"))
    assert "合规标记（1）" in only_rule and world["bank_a"].name in only_rule
    assert "合规标记（0）" in page_text(client.get("/regulator/compliance?acknowledged=yes"))


def test_a_flag_is_acknowledged_with_a_note_and_audited(app, world, flagged):
    client = logged_in_client(app, world["users"]["regulator"])
    token = csrf_token(page_text(client.get("/regulator/compliance")))
    flag = db.session.scalars(select(ComplianceFlag).where(ComplianceFlag.rule == "decline_reasons")).one()
    refused = client.post(f"/regulator/compliance/{flag.id}/acknowledge", data={"csrf_token": token, "note": ""},
                          follow_redirects=True)
    assert "请填写处理说明" in page_text(refused)
    done = client.post(f"/regulator/compliance/{flag.id}/acknowledge",
                       data={"csrf_token": token, "note": "已要求甲银行补录拒绝原因"}, follow_redirects=True)
    assert "已确认处理该标记" in page_text(done)
    db.session.expire_all()
    assert db.session.get(ComplianceFlag, flag.id).acknowledgement_note == "已要求甲银行补录拒绝原因"
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.acknowledge")).one()
    acknowledged = page_text(client.get("/regulator/compliance?acknowledged=yes"))
    assert "合规标记（1）" in acknowledged and "已要求甲银行补录拒绝原因" in acknowledged
    assert client.post("/regulator/compliance/999999/acknowledge",
                       data={"csrf_token": token, "note": "x"}).status_code == 404


def test_the_page_reads_in_english(app, world, flagged):
    client = logged_in_client(app, world["users"]["regulator"])
    client.get("/lang/en")
    page = page_text(client.get("/regulator/compliance"))
    assert "Compliance" in page and "Decline without specific reasons" in page


@pytest.mark.parametrize("persona", ["officer", "lender_admin", "firm", "data_admin"])
@pytest.mark.parametrize("url", ["/regulator/compliance", "/regulator/scoreboard", "/regulator/scoreboard.csv"])
def test_others_cannot_see_the_regulators_pages(app, world, persona, url):
    assert logged_in_client(app, world["users"][persona]).get(url).status_code == 403


def test_the_scoreboard_page_and_its_csv(app, world, flagged):
    client = logged_in_client(app, world["users"]["regulator"])
    page = page_text(client.get("/regulator/scoreboard"))
    assert "机构服务评价" in page and world["bank_a"].name in page and world["bank_b"].name in page
    assert "拒绝原因构成" in page
    response = client.get("/regulator/scoreboard.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 3 and lines[0].startswith("机构,")
