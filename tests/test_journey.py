"""The walking skeleton end to end through the test client, with real logins and CSRF tokens."""
from datetime import timedelta

from sqlalchemy import func, select

from app.common.codes import make_uscc
from app.common.dates import local_date
from app.entities import Application, CreditSubject, DataAccessLog, FinancingNeed, Product
from app.extensions import db

from . import factories
from .conftest import csrf_token, page_text

PASSWORD = factories.PASSWORD


def post_form(client, url, data):
    """GET the form page, then POST `data` with the page's CSRF token."""
    token = csrf_token(page_text(client.get(url)))
    return client.post(url, data={"csrf_token": token, **data})


def login(client, username, password=PASSWORD):
    return post_form(client, "/login", {"username": username, "password": password})


def logout(client):
    token = csrf_token(page_text(client.get("/", follow_redirects=True)))
    return client.post("/logout", data={"csrf_token": token})


def test_skeleton_journey(app):
    bank = factories.InstitutionFactory(name="印台农商银行")
    factories.UserFactory(username="bank_admin", role="lender_admin", institution=bank)
    factories.UserFactory(username="bank_officer", role="lender_officer", institution=bank)
    factories.UserFactory(username="regulator", role="regulator")
    db.session.commit()
    client = app.test_client()

    # A lender admin publishes a product.
    assert login(client, "bank_admin").status_code == 302
    response = post_form(client, "/lender/products/new", {
        "name": "陶瓷贷", "amount_min_wan": "10", "amount_max_wan": "300", "term_min": "6",
        "term_max": "36", "rate_min": "3.65", "rate_max": "5.5", "guarantee_types": ["credit", "mortgage"]})
    assert response.status_code == 302
    assert "陶瓷贷" in page_text(client.get("/lender/products"))
    logout(client)

    # A firm registers its subject, posts a need and sees the product.
    code = make_uscc("91", "610203", "MA6X9001")
    response = post_form(client, "/register", {
        "kind": "enterprise", "name": "陈炉窑火陶瓷有限公司", "code": code, "town_code": "610203100",
        "display_name": "张经理", "username": "chenlu", "password": "Kiln-2026-fire", "confirm": "Kiln-2026-fire"})
    assert response.status_code == 302, page_text(response)
    response = post_form(client, "/firm/needs/new", {
        "amount_wan": "120", "term_months": "24", "purpose": "购置电窑", "guarantee": "mortgage",
        "urgency": "normal", "max_rate": ""})
    assert response.status_code == 302
    need = db.session.scalars(select(FinancingNeed)).one()
    assert need.amount == 1_200_000
    detail = page_text(client.get(f"/firm/needs/{need.id}"))
    assert "陶瓷贷" in detail and "印台农商银行" in detail

    # It applies, consenting to that institution.
    product = db.session.scalars(select(Product)).one()
    apply_url = f"/firm/needs/{need.id}/apply/{product.id}"
    refused = post_form(client, apply_url, {})
    assert refused.status_code == 400 and "授权" in page_text(refused)
    assert db.session.scalar(select(func.count(Application.id))) == 0
    assert post_form(client, apply_url, {"consent": "y"}).status_code == 302
    application = db.session.scalars(select(Application)).one()
    logout(client)

    # The institution's officer opens it (logged as a view), reviews and declines with reasons.
    login(client, "bank_officer")
    assert "陈炉窑火陶瓷有限公司" in page_text(client.get("/lender/"))
    page = page_text(client.get(f"/lender/applications/{application.id}"))
    token = csrf_token(page)
    client.post(f"/lender/applications/{application.id}/review", data={"csrf_token": token})
    response = client.post(f"/lender/applications/{application.id}/decline",
                           data={"csrf_token": token, "reasons": ["tax_arrears", "debt_too_high"],
                                 "note": "欠税两期"})
    assert response.status_code == 302
    db.session.expire_all()
    assert application.status == "declined"
    assert application.decision_reasons == ["tax_arrears", "debt_too_high"]
    subject = db.session.scalars(select(CreditSubject)).one()
    assert db.session.scalar(select(func.count(DataAccessLog.id))
                             .where(DataAccessLog.subject_id == subject.id)) == 1
    logout(client)

    # The firm sees the outcome with its reasons, and who looked at its data.
    login(client, "chenlu", "Kiln-2026-fire")
    outcome = page_text(client.get(f"/firm/applications/{application.id}"))
    assert "已拒绝" in outcome and "存在欠税或纳税信用等级较低" in outcome and "现有负债水平过高" in outcome
    assert "印台农商银行" in page_text(client.get("/firm/consents"))
    logout(client)

    # The regulator sees the counts.
    login(client, "regulator")
    summary = client.get("/api/v1/market/summary").get_json()
    assert summary["counts"] == {"needs": 1, "open_needs": 1, "applications": 1, "decided": 1,
                                 "approved": 0, "declined": 1, "published_products": 1}
    assert "印台农商银行" in page_text(client.get("/regulator/"))


def test_offer_loan_and_monthly_status_reach_the_firm(app, world):
    client = app.test_client()
    login(client, "officer")
    application = world["application"]
    detail = f"/lender/applications/{application.id}"
    token = csrf_token(page_text(client.get(detail)))
    client.post(f"{detail}/review", data={"csrf_token": token, "version": "1"})
    valid_until = (local_date() + timedelta(days=10)).isoformat()
    client.post(f"{detail}/approve", data={
        "csrf_token": token, "version": "2", "amount_wan": "45", "rate": "4.2", "term_months": "18",
        "repayment": "equal_principal", "guarantee": "guarantor", "collateral": "法定代表人保证",
        "valid_until": valid_until, "note": ""})
    logout(client)

    login(client, "firm")
    outcome = page_text(client.get(f"/firm/applications/{application.id}"))
    assert "已批准" in outcome and "45" in outcome and "4.2%" in outcome
    assert "18 个月" in outcome and "等额本金" in outcome and "法定代表人保证" in outcome and valid_until in outcome
    token = csrf_token(outcome)
    response = client.post(f"/firm/applications/{application.id}/accept", data={"csrf_token": token, "version": "3"})
    assert response.status_code == 302
    assert "企业已接受" in page_text(client.get(f"/firm/applications/{application.id}"))
    logout(client)

    login(client, "officer")
    token = csrf_token(page_text(client.get(detail)))
    today = local_date()
    client.post(f"{detail}/disburse", data={"csrf_token": token, "version": "4", "amount_wan": "45",
                                            "disbursed_on": today.isoformat(), "reference": "YT-2026-0042"})
    response = client.post(f"{detail}/repayments", data={
        "csrf_token": token, "version": "5", "month": today.strftime("%Y-%m"), "days_past_due": "35",
        "outstanding_wan": "40", "declared": ""}, follow_redirects=True)
    assert "逾期 31–90 天" in page_text(response)
    logout(client)

    login(client, "firm")
    home = page_text(client.get("/firm/"))
    assert "我的贷款" in home and "YT-2026-0042" in home and "逾期 31–90 天" in home and "40" in home
