"""A firm choosing a product sees each institution's public summary of the lender scoreboard."""
from datetime import timedelta

from app.entities.base import utcnow
from app.extensions import db

from ..conftest import logged_in_client, page_text
from ..services.test_response_clock import application_of


def test_the_need_page_shows_each_lenders_response_and_approval_rate(app, world):
    for status in ("approved", "declined"):
        application = application_of(world, status=status, submitted=utcnow() - timedelta(days=1), decided=utcnow())
        application.decision_reasons = ["tax_arrears"] if status == "declined" else None
    db.session.commit()
    page = page_text(logged_in_client(app, world["users"]["firm"]).get(f"/firm/needs/{world['need'].id}"))
    fitting = page.partition("其他产品及不符合的原因")[0]
    assert world["bank_a"].name in fitting and "近期办结用时中位数" in fitting
    assert "批准率 50%" in fitting and "（承诺 3）" in fitting


def test_a_lender_without_decisions_says_so(app, world):
    page = page_text(logged_in_client(app, world["users"]["firm"]).get(f"/firm/needs/{world['need'].id}"))
    assert "平台上暂无该机构的办结记录" in page
