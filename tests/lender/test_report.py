"""A lender's download of an applicant's credit report: only under the application's consent, and logged."""
from sqlalchemy import select

from app.entities import DataAccessLog, ReportIssue
from app.entities.base import utcnow
from app.extensions import db

from .. import factories
from ..conftest import logged_in_client, page_text, pdf_text


def _url(world):
    return f"/lender/applications/{world['application'].id}/report.pdf"


def test_the_officer_downloads_the_applicants_report_under_consent_and_the_view_is_logged(app, world):
    factories.add_score(world["firm"], "A", 0.01)
    db.session.commit()
    client = logged_in_client(app, world["users"]["officer"])
    assert _url(world) in page_text(client.get(f"/lender/applications/{world['application'].id}"))
    response = client.get(_url(world))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert world["firm"].name in text and "甲银行" in text and "信用等级" in text
    issue = db.session.scalars(select(ReportIssue)).one()
    assert (issue.issued_to, issue.institution_id, issue.subject_id) == (
        "institution", world["bank_a"].id, world["firm"].id)
    logged = db.session.scalars(select(DataAccessLog).where(DataAccessLog.what.like("report:%"))).all()
    assert [(e.subject_id, e.institution_id, e.consent_id, e.purpose, e.what) for e in logged] == [
        (world["firm"].id, world["bank_a"].id, world["consent"].id, "underwriting",
         f"report:application:{world['application'].id}")]


def test_another_lender_gets_404(app, world):
    assert logged_in_client(app, world["users"]["officer_other"]).get(_url(world)).status_code == 404
    assert db.session.scalar(select(ReportIssue.id)) is None


def test_a_revoked_or_expired_consent_gives_404_and_nothing_is_issued_or_logged(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    world["consent"].status = "revoked"
    db.session.commit()
    assert client.get(_url(world)).status_code == 404
    world["consent"].status = "active"
    world["consent"].valid_to = utcnow()
    db.session.commit()
    assert client.get(_url(world)).status_code == 404
    assert db.session.scalar(select(ReportIssue.id)) is None
    assert db.session.scalar(select(DataAccessLog.id)) is None


def test_a_firm_user_cannot_use_the_lenders_download(app, world):
    assert logged_in_client(app, world["users"]["firm"]).get(_url(world)).status_code == 403
