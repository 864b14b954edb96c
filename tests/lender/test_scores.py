"""The lender's view of applicants' scores: only under the firm's consent in force, and every view logged."""
import re

from sqlalchemy import func, select

from app.credit.features import sources_of
from app.entities import CreditScore, CreditSubject, DataAccessLog
from app.extensions import db
from app.ingest.sources import get_source

from .. import factories
from ..conftest import logged_in_client, page_text


def _score_page(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    return page_text(client.get(f"/lender/applications/{world['application'].id}/score"))


def test_a_lender_without_consent_sees_no_score_and_nothing_is_logged(app, scored_world):
    world = scored_world
    world["consent"].status = "revoked"
    db.session.commit()
    client = logged_in_client(app, world["users"]["officer"])
    pages = [page_text(client.get(url)) for url in (
        f"/lender/applications/{world['application'].id}/score", f"/lender/applications/{world['application'].id}",
        "/lender/ranking")]
    assert "企业已撤回该申请的授权" in pages[0] and "企业已撤回该申请的授权" in pages[1]
    for page in pages:
        assert "<svg" not in page and "违约概率" not in page
        for reason in world["score"].reasons:
            assert reason["zh"] not in page
    assert "授权已失效，不显示评分" in pages[2]
    assert db.session.scalars(select(DataAccessLog.what)).all() == []


def test_a_lender_with_consent_sees_score_reasons_chart_peers_and_records_and_the_view_is_logged(app, scored_world):
    world = scored_world
    score = world["score"]
    page = _score_page(app, world)
    assert f'<span class="n">{score.score}</span>' in page and f'<span class="n">{score.grade}</span>' in page
    assert f"{score.pd * 100:.2f}%" in page and world["version"] in page
    # The chart is SVG drawn on the server: no chart script (only the site-wide scripts are on the page).
    scripts = re.findall(r"<script[^>]*>", page)
    assert "<svg" in page and all(re.search(r'src="/static/js/(confirm|cards)\.js"', tag) for tag in scripts)
    assert page.count("<rect") == len(score.contributions["items"]) + bool(score.contributions["other"])
    for reason in score.reasons:
        assert reason["zh"] in page
    assert "同行业" in page and "数据完整度" in page
    first_source = get_source(sources_of(score.reasons[0]["feature"])[0])
    assert first_source.title in page
    assert next(c.header for c in first_source.columns if c.kind != "code") in page
    view = db.session.scalars(select(DataAccessLog).where(DataAccessLog.what.like("score:%"))).one()
    assert (view.subject_id, view.consent_id, view.user_id) == (
        world["subject_id"], world["consent"].id, world["users"]["officer"].id)
    firm = logged_in_client(app, world["users"]["firm"])
    assert "信用评分详情" in page_text(firm.get("/firm/consents"))


def _applicant(world, subject_id, consented):
    """Another application to bank A by the subject, with a consent in force or revoked."""
    subject = db.session.get(CreditSubject, subject_id)
    need = factories.NeedFactory(subject=subject)
    consent = factories.ConsentFactory(subject_id=subject.id, institution_id=world["bank_a"].id,
                                       status="active" if consented else "revoked")
    return factories.ApplicationFactory(need=need, product=world["product"], subject_id=subject.id,
                                        institution_id=world["bank_a"].id, consent_id=consent.id)


def test_the_ranking_orders_consented_applicants_by_score_and_hides_the_others(app, scored_world):
    world = scored_world
    others = db.session.scalars(select(CreditScore.subject_id).where(CreditScore.subject_id != world["subject_id"])
                                .order_by(CreditScore.subject_id).limit(6)).all()
    consented = [_applicant(world, sid, True) for sid in others[:4]]
    hidden = [_applicant(world, sid, False) for sid in others[4:]]
    db.session.commit()
    client = logged_in_client(app, world["users"]["officer"])
    page = page_text(client.get("/lender/ranking"))
    scores = {s.subject_id: s.score for s in db.session.scalars(select(CreditScore))}
    shown = [world["application"], *consented]
    expected = sorted(shown, key=lambda a: (-scores[a.subject_id], -a.id))
    positions = [page.index(f"/lender/applications/{a.id}/score") for a in expected]
    assert positions == sorted(positions)
    last_scored = max(positions)
    for application in hidden:
        assert page.index(f'/lender/applications/{application.id}"') > last_scored
        assert f"/lender/applications/{application.id}/score" not in page
    logged = db.session.scalar(select(func.count(DataAccessLog.id)).where(DataAccessLog.what.like("ranking:%")))
    assert logged == len(shown)
