"""The lender's pages: tenancy, decisions with reasons, products."""
from sqlalchemy import func, select

from app.entities import DataAccessLog, Product
from app.extensions import db

from ..conftest import csrf_token, logged_in_client, page_text
from ..test_journey import post_form


def test_officer_cannot_open_another_institutions_application_by_changing_the_id(app, world):
    application = world["application"]
    other = logged_in_client(app, world["users"]["officer_other"])
    assert world["firm"].name not in page_text(other.get("/lender/"))
    for path in ("", "/review", "/approve", "/decline", "/request-info"):
        url = f"/lender/applications/{application.id}{path}"
        response = other.get(url) if not path else other.post(url, data={
            "csrf_token": csrf_token(page_text(other.get("/lender/")))})
        assert response.status_code == 404, url
    db.session.expire_all()
    assert application.status == "submitted"
    assert db.session.scalar(select(func.count(DataAccessLog.id))) == 0


def test_decline_without_reasons_is_refused(app, world):
    application = world["application"]
    client = logged_in_client(app, world["users"]["officer"])
    token = csrf_token(page_text(client.get(f"/lender/applications/{application.id}")))
    client.post(f"/lender/applications/{application.id}/review", data={"csrf_token": token})
    response = client.post(f"/lender/applications/{application.id}/decline",
                           data={"csrf_token": token, "reasons": []}, follow_redirects=True)
    assert "请选择 1 至 4 项具体拒绝原因" in page_text(response)
    db.session.expire_all()
    assert application.status == "in_review"


def test_approval_outside_the_product_rate_is_refused(app, world):
    application = world["application"]
    client = logged_in_client(app, world["users"]["officer"])
    token = csrf_token(page_text(client.get(f"/lender/applications/{application.id}")))
    client.post(f"/lender/applications/{application.id}/review", data={"csrf_token": token})
    response = client.post(f"/lender/applications/{application.id}/approve",
                           data={"csrf_token": token, "amount_wan": "10", "rate": "24"}, follow_redirects=True)
    assert "批准利率应在产品利率区间" in page_text(response)
    db.session.expire_all()
    assert application.status == "in_review" and application.approved_amount is None


def test_opening_an_application_is_logged_for_the_firm(app, world):
    client = logged_in_client(app, world["users"]["officer"])
    client.get(f"/lender/applications/{world['application'].id}")
    firm_view = page_text(logged_in_client(app, world["users"]["firm"]).get("/firm/consents"))
    assert world["bank_a"].name in firm_view and "贷前审核" in firm_view


def test_admin_cannot_retire_another_institutions_product(app, world):
    from .. import factories

    foreign = factories.ProductFactory(institution=world["bank_b"])
    db.session.commit()
    client = logged_in_client(app, world["users"]["lender_admin"])
    token = csrf_token(page_text(client.get("/lender/products")))
    assert client.post(f"/lender/products/{foreign.id}/retire", data={"csrf_token": token}).status_code == 404
    assert db.session.get(Product, foreign.id).status == "published"


def test_bad_product_is_refused_and_saves_nothing(app, world):
    client = logged_in_client(app, world["users"]["lender_admin"])
    before = db.session.scalar(select(func.count(Product.id)))
    response = post_form(client, "/lender/products/new", {
        "name": "倒挂贷", "amount_min_wan": "300", "amount_max_wan": "10", "term_min": "6", "term_max": "36",
        "rate_min": "3", "rate_max": "5", "guarantee_types": ["credit"]})
    assert response.status_code == 400 and "最低额度不能高于最高额度" in page_text(response)
    assert db.session.scalar(select(func.count(Product.id))) == before
