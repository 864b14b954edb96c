"""The credit report: its content, its PDF (text read back), its verification hash, and the no-score case."""
import json
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.common.dates import local_date
from app.entities import RepairRequest, ReportIssue
from app.extensions import db
from app.services import consents, reports
from app.services.report_pdf import ReportUnavailable, render

from .. import factories
from ..conftest import pdf_attachment, pdf_text

REASONS = [{"feature": "util_late_12m", "value": 3.0, "contribution": 0.31},
           {"feature": "si_insured_change_12m", "value": -0.35, "contribution": 0.2}]


def _penalty(subject, **payload):
    row = {"decision_no": "铜印市监罚〔2025〕7号", "authority": "印台区市场监督管理局", "decided_on": "2025-03-10",
           "severity": "general", "fine": "20000.00", "publicity_until": None, "repaired": False, **payload}
    return factories.add_records(subject, "penalty", [(date.fromisoformat(row["decided_on"]), row)])


def _pdf(app, issue, content, body, **config):
    config = {"REPORT_FONT_PATH": app.config["REPORT_FONT_PATH"], "REPORT_FONT_INDEX": app.config["REPORT_FONT_INDEX"],
              **config}
    return render(content, issue.sha256, body, config["REPORT_FONT_PATH"], config["REPORT_FONT_INDEX"])


@pytest.fixture
def reported(app, world):
    """The world's firm with a score, a penalty, a utilities history, a black-list entry and a view by bank A."""
    firm = world["firm"]
    score = factories.add_score(firm, "C", 0.12)
    score.reasons = REASONS
    _penalty(firm)
    factories.add_records(firm, "utilities", [(factories.months_ago(m), {"billed": "100.00", "paid_on_time": True})
                                              for m in (1, 2, 14)])
    factories.add_list_entry(firm, "black")
    consents.log_access(db.session, firm.id, world["users"]["officer"], world["consent"], "application:1")
    db.session.commit()
    return world


def test_the_pdf_holds_the_firms_facts_grade_reasons_penalty_list_and_access(app, reported):
    firm = reported["firm"]
    with app.test_request_context():
        issue, content, body = reports.issue_to_firm(db.session, firm, reported["users"]["firm"])
        text = pdf_text(_pdf(app, issue, content, body))
    assert "信用报告" in text and issue.code in text and issue.sha256 in text
    assert firm.name in text and firm.uscc in text
    assert "信用等级" in text and "C" in text
    assert "近12个月水电气逾期缴费 3 次" in text and "社保参保人数近12个月下降35%" in text
    # A table cell may wrap a long decision number over two lines, as the font's widths decide.
    assert "铜印市监罚〔2025〕7号" in text.replace("\n", "") and "公示期已满" in text
    assert "2026-03-09" in text  # a general penalty of 2025-03-10 without a stated end: 12 months at most
    assert "黑名单" in text and "测试名单" in text
    assert "甲银行" in text and "贷前审核" in text
    first = factories.months_ago(14).isoformat()[:7]
    assert [(s["first"], s["last"]) for s in content["sources"] if s["department"] == "水电气"] == [
        (first, factories.months_ago(1).isoformat()[:7])]


def test_the_report_has_english_headings_when_the_reader_reads_english(app, reported):
    with app.test_request_context(), force_locale("en"):
        issue, content, body = reports.issue_to_firm(db.session, reported["firm"], reported["users"]["firm"])
        text = pdf_text(_pdf(app, issue, content, body))
    assert "Credit report" in text and "Credit grade" in text and "3 late utility payments in 12 months" in text
    assert "信用报告" not in text


def test_the_hash_verifies_the_attached_content_and_a_changed_byte_does_not(app, reported):
    with app.test_request_context():
        issue, content, body = reports.issue_to_firm(db.session, reported["firm"], reported["users"]["firm"])
        data = _pdf(app, issue, content, body)
    db.session.commit()
    attached = pdf_attachment(data, "report.json")
    assert attached == body and json.loads(attached) == content
    assert reports.verify(db.session, issue.code, reports.digest(attached)) == issue
    assert reports.verify(db.session, issue.code.lower(), issue.sha256.upper()) == issue
    changed = bytearray(attached)
    changed[attached.index(reported["firm"].name.encode())] ^= 1
    assert reports.verify(db.session, issue.code, reports.digest(bytes(changed))) is None
    assert reports.verify(db.session, "0" * 16, issue.sha256) is None
    assert reports.verify(db.session, issue.code, "不是校验码") is None


def test_each_report_is_stored_once_with_its_own_code(app, reported):
    with app.test_request_context():
        first = reports.issue_to_firm(db.session, reported["firm"], reported["users"]["firm"])[0]
        second = reports.issue_to_firm(db.session, reported["firm"], reported["users"]["firm"])[0]
    db.session.commit()
    stored = db.session.scalars(select(ReportIssue).order_by(ReportIssue.id)).all()
    assert [(r.code, r.issued_to, r.subject_id) for r in stored] == [
        (first.code, "firm", reported["firm"].id), (second.code, "firm", reported["firm"].id)]
    assert first.code != second.code and first.as_of == local_date()


def test_a_firm_without_a_score_gets_a_report_that_says_so(app, world):
    with app.test_request_context():
        issue, content, body = reports.issue_to_firm(db.session, world["firm"], world["users"]["firm"])
        text = pdf_text(_pdf(app, issue, content, body))
    assert content["score"] is None
    assert "本主体暂无信用评分" in text and "信用等级" not in text and world["firm"].name in text
    assert "无行政处罚记录" in text and "未被列入红名单或黑名单" in text


def test_a_missing_font_is_a_clear_error(app, world, tmp_path):
    with app.test_request_context():
        issue, content, body = reports.issue_to_firm(db.session, world["firm"], world["users"]["firm"])
        with pytest.raises(ReportUnavailable, match="中文字体"):
            _pdf(app, issue, content, body, REPORT_FONT_PATH=str(tmp_path / "none.ttc"))


@pytest.mark.parametrize(("payload", "expected"), [
    ({"severity": "general", "decided_on": "2025-03-10"}, (date(2026, 3, 9), False)),
    ({"severity": "serious", "decided_on": "2024-01-31"}, (date(2027, 1, 30), False)),
    ({"severity": "minor", "decided_on": "2025-05-01"}, (date(2025, 7, 31), False)),
    ({"severity": "serious", "decided_on": "2024-01-31", "publicity_until": "2025-01-31"}, (date(2025, 1, 31), True)),
])
def test_a_penalty_publicity_ends_on_its_stated_date_or_the_longest_its_severity_allows(payload, expected):
    assert reports.publicity_end(payload) == expected


def test_repair_status_follows_the_record_and_an_open_repair_request(app, world):
    firm = world["firm"]
    today = local_date()
    recent = (today - timedelta(days=30)).isoformat()
    _penalty(firm, decision_no="A〔2026〕1号", decided_on=recent)
    _penalty(firm, decision_no="B〔2020〕1号", decided_on="2020-01-01")
    _penalty(firm, decision_no="C〔2026〕2号", decided_on=recent, repaired=True)
    batch = _penalty(firm, decision_no="D〔2026〕3号", decided_on=recent)
    record_id = db.session.scalar(select(reports.SourceRecord.id).where(reports.SourceRecord.batch_id == batch.id))
    db.session.add(RepairRequest(subject_id=firm.id, source_record_id=record_id, description="已整改"))
    db.session.flush()
    with app.test_request_context():
        statuses = {p["decision_no"]: p["status"] for p in reports.penalties(db.session, firm.id, today)}
    assert statuses == {"A〔2026〕1号": "公示中，可申请信用修复", "B〔2020〕1号": "公示期已满",
                        "C〔2026〕2号": "已信用修复", "D〔2026〕3号": "信用修复申请处理中"}


def test_a_masked_name_keeps_only_its_ends():
    assert reports.masked_name("陈炉甲陶瓷有限公司") == "陈炉*****公司"
    assert reports.masked_name("张三") == "张*"
