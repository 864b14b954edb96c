"""The firm's credit report download, its link on the score page, and the public verify page."""
from sqlalchemy import select

from app.entities import DataAccessLog, ReportIssue
from app.extensions import db
from app.services import reports

from .. import factories
from ..conftest import logged_in_client, page_text, pdf_attachment, pdf_text


def _download(client):
    response = client.get("/firm/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    return response.data


def test_the_firm_downloads_its_own_report_with_name_grade_and_reasons(app, world):
    score = factories.add_score(world["firm"], "B", 0.05)
    score.reasons = [{"feature": "util_late_12m", "value": 2.0, "contribution": 0.2}]
    db.session.commit()
    client = logged_in_client(app, world["users"]["firm"])
    assert "/firm/report.pdf" in page_text(client.get("/firm/score"))
    text = pdf_text(_download(client))
    issue = db.session.scalars(select(ReportIssue)).one()
    assert (issue.subject_id, issue.issued_to, issue.issued_by_id) == (world["firm"].id, "firm",
                                                                       world["users"]["firm"].id)
    assert world["firm"].name in text and "信用等级" in text and "近12个月水电气逾期缴费 2 次" in text
    assert issue.code in text and issue.sha256 in text
    assert db.session.scalar(select(DataAccessLog.id)) is None  # the firm reading its own data is no lender's view


def test_each_firm_gets_only_its_own_report(app, world):
    text = pdf_text(_download(logged_in_client(app, world["users"]["firm_other"])))
    assert world["other_firm"].name in text and world["firm"].name not in text
    assert "本主体暂无信用评分" in text


def test_the_report_speaks_english_after_the_language_switch(app, world):
    client = logged_in_client(app, world["users"]["firm"])
    client.get("/lang/en")
    text = pdf_text(_download(client))
    assert "Credit report" in text and "1. Subject" in text and "This subject has no credit score" in text


def test_without_the_font_the_firm_is_told_why_and_nothing_is_issued(app, world, tmp_path):
    app.config["REPORT_FONT_PATH"] = str(tmp_path / "missing.ttc")
    client = logged_in_client(app, world["users"]["firm"])
    response = client.get("/firm/report.pdf", follow_redirects=True)
    assert response.status_code == 200 and "没有找到报告所需的中文字体" in page_text(response)
    assert db.session.scalar(select(ReportIssue.id)) is None


def test_the_verify_page_says_valid_with_a_masked_name_or_not_valid(app, world, client):
    data = _download(logged_in_client(app, world["users"]["firm"]))
    issue = db.session.scalars(select(ReportIssue)).one()
    sha256 = reports.digest(pdf_attachment(data, "report.json"))
    page = page_text(client.get(f"/report/verify/{issue.code}?sha256={sha256}"))
    assert "有效" in page and "陈炉*****公司" in page and world["firm"].name not in page
    wrong = page_text(client.get(f"/report/verify/{issue.code}?sha256={'0' * 64}"))
    assert "无效" in wrong and "陈炉" not in wrong
    hostile = client.get("/report/verify/<script>?sha256=<b>x</b>")
    assert hostile.status_code in (200, 404) and "<b>x</b>" not in page_text(hostile)
    assert "报告上的校验码" in page_text(client.get(f"/report/verify/{issue.code}"))
