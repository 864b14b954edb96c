"""A lender sees an application's credit data only under the consent that application was made with
(issue 13): not under another consent of the same firm to the same institution, and the 查询记录
names exactly that consent."""
from datetime import timedelta

from sqlalchemy import select

from app.entities import DataAccessLog
from app.entities.base import utcnow
from app.extensions import db

from .. import factories
from ..conftest import csrf_token, logged_in_client, page_text

SCORE_SHOWN = '<span class="n">600</span>'


def second_application(world, **consent_values):
    """Another application of the world's firm to bank A, on a need and a consent of its own."""
    consent = factories.ConsentFactory(subject_id=world["firm"].id, institution_id=world["bank_a"].id,
                                       **consent_values)
    application = factories.ApplicationFactory(
        need=factories.NeedFactory(subject=world["firm"], purpose="第二笔需求"), product=world["product"],
        subject_id=world["firm"].id, institution_id=world["bank_a"].id, consent_id=consent.id)
    factories.add_score(world["firm"], "B", 0.04)
    db.session.commit()
    return application


def views_logged():
    """(what, consent id, purpose) of every 查询记录 entry, in order."""
    return db.session.execute(select(DataAccessLog.what, DataAccessLog.consent_id, DataAccessLog.purpose)
                              .order_by(DataAccessLog.id)).all()


def refused(client, application, message):
    """The application's score page refuses with `message`; its detail page says so and shows no score."""
    response = client.get(f"/lender/applications/{application.id}/score")
    page = page_text(response)
    assert response.status_code == 403 and message in page and SCORE_SHOWN not in page
    detail = page_text(client.get(f"/lender/applications/{application.id}"))
    assert message in detail and "查看评分详情" not in detail
    return True


def test_revoking_one_applications_consent_stops_that_application_only(app, world):
    revoked, kept = world["application"], second_application(world)
    firm = logged_in_client(app, world["users"]["firm"])
    token = csrf_token(page_text(firm.get("/firm/consents")))
    assert firm.post(f"/firm/consents/{revoked.consent_id}/revoke", data={"csrf_token": token}).status_code == 302
    officer = logged_in_client(app, world["users"]["officer"])
    assert refused(officer, revoked, "企业已撤回该申请的授权")
    shown = officer.get(f"/lender/applications/{kept.id}/score")
    assert shown.status_code == 200 and SCORE_SHOWN in page_text(shown)
    assert "查看评分详情" in page_text(officer.get(f"/lender/applications/{kept.id}"))
    ranking = page_text(officer.get("/lender/ranking"))
    assert f"/lender/applications/{kept.id}/score" in ranking
    assert f"/lender/applications/{revoked.id}/score" not in ranking
    assert views_logged() == [(f"score:application:{kept.id}", kept.consent_id, "underwriting"),
                              (f"application:{kept.id}", kept.consent_id, "underwriting"),
                              (f"ranking:application:{kept.id}", kept.consent_id, "underwriting")]


def test_each_application_is_logged_under_its_own_consent(app, world):
    # The longer-running consent of the other application was the one every view was logged under.
    longer = second_application(world, valid_to=utcnow() + timedelta(days=60))
    officer = logged_in_client(app, world["users"]["officer"])
    for application in (world["application"], longer):
        assert officer.get(f"/lender/applications/{application.id}/score").status_code == 200
    assert [(what, consent) for what, consent, _purpose in views_logged()] == [
        (f"score:application:{world['application'].id}", world["consent"].id),
        (f"score:application:{longer.id}", longer.consent_id)]


def test_a_consent_of_another_purpose_does_not_cover_underwriting(app, world):
    monitoring = second_application(world, purpose_code="monitoring", purpose_text="贷后监测")
    officer = logged_in_client(app, world["users"]["officer"])
    assert refused(officer, monitoring, "没有贷前审核用途的授权")
    assert f"/lender/applications/{monitoring.id}/score" not in page_text(officer.get("/lender/ranking"))
    assert not [row for row in views_logged() if row.consent_id == monitoring.consent_id]


def test_an_expired_consent_refuses(app, world):
    expired = second_application(world, valid_from=utcnow() - timedelta(days=31),
                                 valid_to=utcnow() - timedelta(minutes=1))
    officer = logged_in_client(app, world["users"]["officer"])
    assert refused(officer, expired, "该申请的授权已于")
    assert f"/lender/applications/{expired.id}/score" not in page_text(officer.get("/lender/ranking"))
    assert all(row.consent_id == world["consent"].id for row in views_logged())
