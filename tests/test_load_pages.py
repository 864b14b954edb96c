"""The load benchmark's journeys (benchmarks/load.py) against the pages the app renders: each form they post
is accepted and each link they follow is there, so the benchmark measures the work it claims to."""
from sqlalchemy import select

from app.entities import Application, FinancingNeed
from app.extensions import db
from benchmarks._load_pages import APPLICATION_LINK, APPLY_LINK, apply_form, login_form, need_form

from . import factories
from .conftest import page_text

ORIGIN = {"Origin": "http://localhost"}


def logged_in(app, username):
    client = app.test_client()
    response = client.post("/login", data=login_form(page_text(client.get("/login")), username, factories.PASSWORD),
                           headers=ORIGIN)
    assert response.status_code == 302, page_text(response)
    return client


def test_the_firm_journey_posts_a_need_and_applies_with_consent(app, world):
    client = logged_in(app, "firm")
    applications_before = db.session.scalar(select(db.func.count(Application.id)))
    posted = client.post("/firm/needs/new", data=need_form(page_text(client.get("/firm/needs/new"))),
                         headers=ORIGIN, follow_redirects=True)
    assert posted.status_code == 200
    need = db.session.scalars(select(FinancingNeed).order_by(FinancingNeed.id.desc())).first()
    assert need.amount == 500_000 and need.id != world["need"].id
    link = APPLY_LINK.search(page_text(posted))
    assert link is not None, "the need's page offers no product to apply to"
    applied = client.post(link.group(1), data=apply_form(page_text(client.get(link.group(1)))), headers=ORIGIN)
    assert applied.status_code == 302 and "/firm/applications/" in applied.headers["Location"]
    assert db.session.scalar(select(db.func.count(Application.id))) == applications_before + 1


def test_the_officer_journey_finds_an_application_in_the_queue(app, world):
    client = logged_in(app, "officer")
    link = APPLICATION_LINK.search(page_text(client.get("/lender/")))
    assert link is not None and link.group(1) == f"/lender/applications/{world['application'].id}"
    for path in (link.group(1), f"{link.group(1)}/score", "/lender/ranking"):
        assert client.get(path).status_code == 200, path


def test_the_regulator_journey_opens_its_pages(app, world):
    client = logged_in(app, "regulator")
    for path in ("/regulator/", "/regulator/overdue", "/regulator/matching"):
        assert client.get(path).status_code == 200, path
